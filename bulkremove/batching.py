"""Packing customer ids into requests that fit the front server's limits.

Lengths are counted on the request-target exactly as it goes on the wire: the path, ``?``, and
``customer_id%5B%5D=<id>`` pairs joined by ``&``. The query is built here from ASCII pieces and
handed to the client already encoded, so nothing re-quotes it on the way out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bulkremove.errors import ConfigError
from bulkremove.ids import MAX_ID_DIGITS

QUERY_KEY = "customer_id%5B%5D="
"""``customer_id[]=`` as aiohttp sends it: brackets are percent-encoded."""

_PAIR_OVERHEAD = len(QUERY_KEY) + 1  # the key and the '&' (or '?') in front of it


def records_path(base_path: str, campaign: str) -> str:
    """The encoded path of the batch endpoint under the API root's encoded path."""
    return f"{base_path.rstrip('/')}/batch/crm_outbounds/{campaign}/records"


def build_query(ids: Iterable[int]) -> str:
    """The encoded query string for ``ids``, in order."""
    return "&".join([QUERY_KEY + str(i) for i in ids])


def target_length(path: str, ids: Iterable[int]) -> int:
    """Bytes of ``path?query`` for ``ids``, without building it."""
    return len(path) + sum(_PAIR_OVERHEAD + len(str(i)) for i in ids)


def check_budget(path: str, max_url_length: int) -> None:
    """Refuse a budget in which a single id of the longest allowed form cannot fit."""
    smallest_needed = len(path) + _PAIR_OVERHEAD + MAX_ID_DIGITS
    if max_url_length < smallest_needed:
        raise ConfigError(
            f"max_url_length={max_url_length} is too small: the path {path!r} with one "
            f"{MAX_ID_DIGITS}-digit id needs {smallest_needed} bytes"
        )


class Packer:
    """Fills one batch at a time, never past the byte budget or the id cap.

    ``add`` refuses an id that would not fit; the caller then ``take``s the full batch and adds
    the id to the next one. Ids must be positive integers of at most 18 digits.
    """

    __slots__ = ("_ids", "_max_ids", "_room", "_size", "budget", "path")

    def __init__(self, path: str, max_url_length: int, max_ids: int) -> None:
        check_budget(path, max_url_length)
        if max_ids < 1:
            raise ConfigError(f"max_ids_per_request={max_ids} must be at least 1")
        self.path = path
        self.budget = max_url_length
        self._max_ids = max_ids
        self._ids: list[int] = []
        self._room = max_url_length - len(path)
        self._size = 0

    def __len__(self) -> int:
        return len(self._ids)

    def fits(self, customer_id: int) -> bool:
        """True when ``customer_id`` can join the current batch."""
        cost = _PAIR_OVERHEAD + len(str(customer_id))
        return len(self._ids) < self._max_ids and self._size + cost <= self._room

    def add(self, customer_id: int) -> bool:
        """Add ``customer_id`` if it fits; return whether it was added."""
        cost = _PAIR_OVERHEAD + len(str(customer_id))
        if len(self._ids) >= self._max_ids or self._size + cost > self._room:
            return False
        self._ids.append(customer_id)
        self._size += cost
        return True

    @property
    def full(self) -> bool:
        """True when not even the shortest id would fit any more."""
        return len(self._ids) >= self._max_ids or self._size + _PAIR_OVERHEAD + 1 > self._room

    def take(self) -> list[int]:
        """Return the current batch and start an empty one."""
        ids, self._ids, self._size = self._ids, [], 0
        return ids

    def lower_budget(self, max_url_length: int) -> None:
        """Shrink the budget (after a 414); the current batch must be empty."""
        check_budget(self.path, max_url_length)
        if self._ids:
            raise RuntimeError("lower_budget on a non-empty batch")
        self.budget = max_url_length
        self._room = max_url_length - len(self.path)


def pack(ids: Iterable[int], path: str, max_url_length: int, max_ids: int) -> Iterator[list[int]]:
    """Split ``ids``, in order, into batches as full as both limits allow."""
    packer = Packer(path, max_url_length, max_ids)
    for customer_id in ids:
        if not packer.add(customer_id):
            yield packer.take()
            packer.add(customer_id)
    if len(packer):
        yield packer.take()
