"""Packing customer ids into requests that fit the front server's limits.

Lengths are counted on the request-target exactly as it goes on the wire: the path, ``?``, and
``customer_id[]=<id>`` pairs joined by ``&`` (``customer_id%5B%5D=<id>`` with encoded brackets).
The query is built here from ASCII pieces and handed to the client already encoded, so nothing
re-quotes it on the way out. ``pair`` is what one key costs beyond the digits of its int: the
query key and the ``&`` (or ``?``) in front of it; the key kind knows it (``Kind.pair``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, islice
from operator import add

import orjson

from bulkremove.errors import ConfigError, InputError
from bulkremove.ids import MAX_ID_DIGITS, is_campaign_id

QUERY_KEY = "customer_id%5B%5D="
"""The query key of one customer id, brackets encoded (``query_brackets = "raw"`` sends ``[]``)."""
RAW_BRACKETS = "[]"
ENCODED_BRACKETS = "%5B%5D"
"""The brackets percent-encoded: 4 bytes more per key, for a front server that refuses raw ones."""

PAIR_BYTES = len(QUERY_KEY) + 1  # the key and the '&' (or '?') in front of it
_ID_TEXT_BYTES = b"0123456789,"
_PACK_CHUNK = 1 << 16
MAX_KEY_DIGITS = MAX_ID_DIGITS + 1
"""The widest key written out: a phone number of 18 digits behind its sentinel (see ids)."""


CRM_ENDPOINT = "batch/crm_outbounds/{}/records"
"""The batch endpoint of CRM campaigns, under the API root; ``{}`` is the campaign."""


def records_path(base_path: str, campaign: str, endpoint: str = CRM_ENDPOINT) -> str:
    """The encoded path of the batch endpoint under the API root's encoded path."""
    return f"{base_path.rstrip('/')}/{endpoint.format(campaign)}"


def campaign_path(base_path: str, campaign: str, endpoint: str = CRM_ENDPOINT) -> str:
    """:func:`records_path` for a campaign id that is checked first.

    The last gate before a URL: a journal edited by hand can hold anything.
    """
    if not isinstance(campaign, str) or not is_campaign_id(campaign):
        raise InputError(
            f"refusing to send campaign id {str(campaign)[:40]!r}: "
            "not exactly 5 characters of [0-9A-Za-z]"
        )
    return records_path(base_path, campaign, endpoint)


def build_query(ids: Iterable[int]) -> str:
    """The encoded query string for ``ids`` (ints of at least 0), in order."""
    text = id_text(ids)
    if text is None:
        raise ValueError("customer ids must be ints of at least 0")
    return query_of(text)


def id_text(ids: Iterable[int]) -> str | None:
    """``ids`` written as ``1,2,3``; None unless every one is an int of at least 0.

    orjson writes them in C, five times as fast as ``str`` on each. Anything but such an int it
    writes with other characters (``true``, ``1.5``, ``"7"``, ``null``, ``-1``) or refuses
    (past 64 bits), so one look at the bytes settles it.
    """
    try:
        text = orjson.dumps(ids if isinstance(ids, list) else list(ids))[1:-1]
    except orjson.JSONEncodeError:
        return None
    return None if text.translate(None, _ID_TEXT_BYTES) else text.decode()


def query_of(text: str, key: str = QUERY_KEY) -> str:
    """The encoded query string for ids written as :func:`id_text` writes them."""
    return key + text.replace(",", "&" + key) if text else ""


def target_length(path: str, ids: Iterable[int], pair: int = PAIR_BYTES) -> int:
    """Bytes of ``path?query`` for ``ids``, without building it."""
    ids = ids if isinstance(ids, Sequence) else list(ids)
    width = _one_width(ids)
    if width is not None:  # the usual batch: no string made per id
        return len(path) + (pair + width) * len(ids)
    return len(path) + pair * len(ids) + sum(map(len, map(str, ids)))


def _one_width(ids: Sequence[int]) -> int | None:
    """The length of every id written out, when all are positive ints of one length.

    Only the smallest and the largest are written out. None for anything else (a journal
    edited by hand can hold text; the client refuses to send it).
    """
    try:
        low, high = min(ids), max(ids)
    except (TypeError, ValueError):  # not comparable, or empty
        return None
    if type(low) is not int or type(high) is not int or low < 1:
        return None
    width = len(str(high))
    return width if len(str(low)) == width else None


def check_budget(path: str, max_url_length: int, pair: int = PAIR_BYTES) -> None:
    """Refuse a budget in which a single id of the longest allowed form cannot fit."""
    smallest_needed = len(path) + pair + MAX_KEY_DIGITS
    if max_url_length < smallest_needed:
        raise ConfigError(
            f"max_url_length={max_url_length} is too small: the path {path!r} with one "
            f"{MAX_KEY_DIGITS}-digit key needs {smallest_needed} bytes"
        )


class Packer:
    """Fills one batch at a time, never past the byte budget or the id cap.

    ``add`` refuses an id that would not fit; the caller then ``take``s the full batch and adds
    the id to the next one. Ids must be positive integers of at most 18 digits.
    """

    __slots__ = ("_ids", "_max_ids", "_pair", "_room", "_size", "budget", "path")

    def __init__(
        self, path: str, max_url_length: int, max_ids: int, pair: int = PAIR_BYTES
    ) -> None:
        check_budget(path, max_url_length, pair)
        if max_ids < 1:
            raise ConfigError(f"max_ids_per_request={max_ids} must be at least 1")
        self.path = path
        self.budget = max_url_length
        self._max_ids = max_ids
        self._pair = pair
        self._ids: list[int] = []
        self._room = max_url_length - len(path)
        self._size = 0

    def __len__(self) -> int:
        return len(self._ids)

    def fits(self, customer_id: int) -> bool:
        """True when ``customer_id`` can join the current batch."""
        cost = self._pair + len(str(customer_id))
        return len(self._ids) < self._max_ids and self._size + cost <= self._room

    def add(self, customer_id: int) -> bool:
        """Add ``customer_id`` if it fits; return whether it was added."""
        cost = self._pair + len(str(customer_id))
        if len(self._ids) >= self._max_ids or self._size + cost > self._room:
            return False
        self._ids.append(customer_id)
        self._size += cost
        return True

    @property
    def full(self) -> bool:
        """True when not even the shortest id would fit any more."""
        return len(self._ids) >= self._max_ids or self._size + self._pair + 1 > self._room

    def add_many(self, ids: Sequence[int], start: int = 0) -> int:
        """Add the longest run of ``ids`` from ``start`` that fits; return how many were added.

        The same as calling :meth:`add` on each until one is refused, without a call per id.
        """
        head = ids[start : start + self._max_ids - len(self._ids)]
        if not head:
            return 0
        room = self._room - self._size
        width, pair = _one_width(head), self._pair
        if width is not None:  # the usual case: one cost for every id
            fits = min(len(head), room // (pair + width))
            self._ids.extend(head[:fits])
            self._size += fits * (pair + width)
            return fits
        # cost of the first k ids: their digits plus k pair overheads, ascending in k
        costs = list(
            map(
                add,
                accumulate(map(len, map(str, head))),
                range(pair, pair * (len(head) + 1), pair),
            )
        )
        fits = bisect_right(costs, room)
        if fits:
            self._ids.extend(head[:fits])
            self._size += costs[fits - 1]
        return fits

    def take(self) -> list[int]:
        """Return the current batch and start an empty one."""
        ids, self._ids, self._size = self._ids, [], 0
        return ids

    def lower_budget(self, max_url_length: int) -> None:
        """Shrink the budget (after a 414); the current batch must be empty."""
        check_budget(self.path, max_url_length, self._pair)
        if self._ids:
            raise RuntimeError("lower_budget on a non-empty batch")
        self.budget = max_url_length
        self._room = max_url_length - len(self.path)


def count_batches(
    widths: Mapping[int, int], path: str, max_url_length: int, max_ids: int, pair: int = PAIR_BYTES
) -> int:
    """How many batches :func:`pack` makes of ascending ids, from how many have each width.

    ``widths`` maps a length in digits to how many ids have it. Ascending positive ids come
    shortest first, so packing them depends on these counts alone: the plan of a run counts
    its requests without reading every id.
    """
    check_budget(path, max_url_length, pair)
    room = max_url_length - len(path)
    batches = 0
    count = used = 0  # ids and bytes in the open batch
    for width in sorted(w for w, n in widths.items() if n > 0):
        left = widths[width]
        cost = pair + width
        per_batch = min(max_ids, room // cost)
        if per_batch < 1:  # not an id the client sends (it refuses it): one request each
            batches += left + (1 if count else 0)
            count = used = 0
            continue
        fits = min(left, max_ids - count, (room - used) // cost)
        count, used, left = count + fits, used + fits * cost, left - fits
        if left:  # the open batch is full: close it, then whole batches of this width
            full, rest = divmod(left, per_batch)
            if rest == 0:  # the last of them stays open for the next width
                full, rest = full - 1, per_batch
            batches += 1 + full
            count, used = rest, rest * cost
    return batches + (1 if count else 0)


def pack(
    ids: Iterable[int], path: str, max_url_length: int, max_ids: int, pair: int = PAIR_BYTES
) -> Iterator[list[int]]:
    """Split ``ids``, in order, into batches as full as both limits allow."""
    packer = Packer(path, max_url_length, max_ids, pair)
    source = iter(ids)
    while chunk := list(islice(source, _PACK_CHUNK)):
        start = packer.add_many(chunk)
        while start < len(chunk):
            yield packer.take()
            start += packer.add_many(chunk, start)
    if len(packer):
        yield packer.take()
