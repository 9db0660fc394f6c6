"""Reading the API's answers: per-record outcomes, error bodies, Retry-After. Pure code.

The client hands raw bytes here; nothing in this module does I/O. Be liberal in what is accepted:
any entry that is not one of the three documented statuses is kept verbatim for the journal.
"""

from __future__ import annotations

import email.utils
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from itertools import compress, pairwise, repeat
from typing import Any, NamedTuple, overload

import orjson

from bulkremove.batching import id_text
from bulkremove.errors import BadAnswerError

REMOVED = "REMOVED"
NOT_EXIST = "NOT_EXIST"
CALL_IN_PROGRESS = "CALL_IN_PROGRESS"
MISSING = "MISSING"
"""Status given to an id that was sent but has no entry in the answer."""
MALFORMED = "MALFORMED"
"""Status given to an entry whose ``status`` is not a string."""

_EXCERPT = 500
_MAX_RECORD_ID = (1 << 63) - 1
"""The journal keeps record ids as SQLite INTEGERs (signed 64-bit): larger ones are unusable."""


class Outcome(NamedTuple):
    """What the server said about one customer id of a batch."""

    customer_id: int
    status: str
    """REMOVED, NOT_EXIST, CALL_IN_PROGRESS, MISSING, MALFORMED, or another status verbatim."""
    record_id: int | None
    detail: str | None
    """The raw entry as JSON, kept for anything unexpected; None for ordinary answers."""


def excerpt(body: bytes, limit: int = _EXCERPT) -> str:
    """A printable, bounded piece of a raw body for messages and the journal."""
    text = body[:limit].decode("utf-8", "replace")
    return text + ("…" if len(body) > limit else "")


class Outcomes(Sequence[Outcome]):
    """The outcomes of one answer, one per id asked, in order, kept as columns.

    ``statuses[k]``, ``record_ids[k]`` and ``details.get(k)`` are what was said of ``ids[k]``.
    An answer of 300 ids is three lists, not 300 tuples: an :class:`Outcome` is made only when
    one is read, and the engine reads the columns.
    """

    __slots__ = ("details", "ids", "limits", "record_ids", "removed", "statuses")

    def __init__(
        self,
        ids: Sequence[int],
        statuses: list[str],
        record_ids: list[int | None],
        details: dict[int, str],
        removed: dict[int, list[int]] | None = None,
    ) -> None:
        self.ids = ids
        self.statuses = statuses
        self.record_ids = record_ids
        self.details = details
        """Index in ``ids`` to the raw entry or reason, only for unexpected answers."""
        self.removed = removed or {}  # index in ids to record ids, keys of several records
        self.limits: object | None = None  # the answer's rate-limit headers (a RateLimits)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Outcomes:
        """The columns of ready-made outcomes."""
        if isinstance(outcomes, Outcomes):
            return outcomes
        details = {k: o.detail for k, o in enumerate(outcomes) if o.detail is not None}
        return cls(
            [o.customer_id for o in outcomes],
            [o.status for o in outcomes],
            [o.record_id for o in outcomes],
            details,
        )

    @property
    def all_removed(self) -> bool:
        """Every id REMOVED with a usable record id: the usual answer."""
        return not self.details and self.statuses.count(REMOVED) == len(self.statuses)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Outcome: ...

    @overload
    def __getitem__(self, index: slice) -> list[Outcome]: ...

    def __getitem__(self, index: int | slice) -> Outcome | list[Outcome]:
        if isinstance(index, slice):
            return list(self)[index]
        k = range(len(self.ids))[index]
        return Outcome(self.ids[k], self.statuses[k], self.record_ids[k], self.details.get(k))

    def __iter__(self) -> Iterator[Outcome]:
        details = self.details
        for k, (customer_id, status, record_id) in enumerate(
            zip(self.ids, self.statuses, self.record_ids, strict=True)
        ):
            yield Outcome(customer_id, status, record_id, details.get(k))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Outcomes({list(self)!r})"


Reader = Callable[[bytes, Sequence[int]], Outcomes]
_status: Callable[[Any], Any] = operator.itemgetter("status")
_get: Callable[[Any, str], Any] = dict.get


def read_outcomes(body: bytes, ids: Sequence[int]) -> Outcomes:
    """One outcome per id in ``ids``, in order, from a 200/207 body, as columns.

    Raises BadAnswerError when the body is not a JSON object. Entries for ids that were not
    asked for are ignored: they can never mark a record of ours removed. An id's entry is the
    one under exactly its decimal key (``"0441"`` is not 441's).
    """
    data = load_object(body)
    # orjson keeps the last of duplicate keys: one "status" per entry in the usual answer, so a
    # count that differs (or an escape, which may spell one) is when duplicates are looked for.
    if body.count(b'"status"') != len(data) or b"\\" in body:
        duplicates = _duplicates(body)
        if duplicates:
            return _with_duplicates(body, ids, data, duplicates)
    entries = _entries(data, ids)
    # The usual answers (every entry REMOVED, or only documented statuses) are read into columns
    # with C doing the work per id; anything else is read entry by entry below.
    try:
        statuses = list(map(_status, entries))
        record_ids = list(map(_get, entries, repeat("record_id")))
    except (TypeError, KeyError):  # an id without an entry, or an entry that is no object
        return _read_each(body, ids, entries)
    removed = statuses.count(REMOVED)
    if removed == len(statuses):
        if _usable_record_ids(record_ids):
            return Outcomes(ids, statuses, record_ids, {})
        return _read_each(body, ids, entries)
    known = removed + statuses.count(NOT_EXIST) + statuses.count(CALL_IN_PROGRESS)
    if known == len(statuses) and _usable_record_ids(
        list(compress(record_ids, map(REMOVED.__eq__, statuses)))
    ):
        # the record id in an entry that says anything but REMOVED is not ours to keep
        kept = [r if s == REMOVED else None for s, r in zip(statuses, record_ids, strict=True)]
        return Outcomes(ids, statuses, kept, {})
    return _read_each(body, ids, entries)


def load_object(body: bytes) -> dict[str, Any]:
    """The JSON object of an answer; BadAnswerError for anything else."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadAnswerError(f"answer is not JSON: {excerpt(body, 120)!r}", body=body) from exc
    if type(data) is not dict:
        raise BadAnswerError(f"answer is not a JSON object: {excerpt(body, 120)!r}", body=body)
    return data


def _duplicates(body: bytes) -> dict[str, list[Any]]:
    """Every entry of each top-level key given more than once, in the order given."""
    given: dict[str, list[Any]] = {}
    try:
        pairs = _top_level_pairs(body)
    except orjson.JSONDecodeError:  # read whole by orjson, so only a part past its limits
        return {}
    for key, value in pairs:
        given.setdefault(key, []).append(value)
    return {key: values for key, values in given.items() if len(values) > 1}


def _top_level_pairs(body: bytes) -> list[tuple[str, Any]]:
    """The key-value pairs of a JSON object, duplicates kept, which a parser into dicts loses.

    ``body`` has been read as one object already, so it is valid: the separators at the first
    level (outside strings) cut it into keys and values, each read on its own.
    """
    cuts: list[int] = []
    depth, in_string, escaped = 0, False, False
    for pos, char in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif char == 0x5C:  # backslash
                escaped = True
            elif char == 0x22:  # quote
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in b"{[":
            depth += 1
            if depth == 1:
                cuts.append(pos)
        elif char in b"}]":
            if depth == 1:
                cuts.append(pos)
            depth -= 1
        elif depth == 1 and char in b",:":
            cuts.append(pos)
    parts = [body[start + 1 : end] for start, end in pairwise(cuts)]
    if len(parts) == 1 and not parts[0].strip():
        return []  # {}
    return [
        (orjson.loads(k), orjson.loads(v)) for k, v in zip(parts[::2], parts[1::2], strict=True)
    ]


def _with_duplicates(
    body: bytes, ids: Sequence[int], data: dict[str, Any], duplicates: dict[str, list[Any]]
) -> Outcomes:
    """The outcomes of an answer with duplicate keys: a REMOVED entry wins over any other, and
    each such id's entries are kept in its detail."""
    chosen = dict(data)
    for key, values in duplicates.items():
        removed = [v for v in values if type(v) is dict and v.get("status") == REMOVED]
        chosen[key] = removed[0] if removed else values[-1]
    outcomes = _read_each(body, ids, _entries(chosen, ids))
    for k, customer_id in enumerate(ids):
        given = duplicates.get(str(customer_id))
        if given is not None:
            outcomes.details[k] = f"duplicate entries for this id: {_raw(given)}"
    return outcomes


def read_not_found(body: bytes, ids: Sequence[int], read: Reader | None = None) -> Outcomes | None:
    """The outcomes (read by ``read``, else :func:`read_outcomes`) of a 404 whose body says
    NOT_EXIST for every id, as the API gives when none exists; None for any other 404."""
    if b"NOT_EXIST" not in body:
        return None
    try:
        outcomes = (read or read_outcomes)(body, ids)
    except BadAnswerError:
        return None
    if outcomes.details or outcomes.statuses.count(NOT_EXIST) != len(ids):
        return None
    return outcomes


def _entries(data: dict[str, Any], ids: Sequence[int]) -> list[Any]:
    """The entry of each id, in order; None for an id without one."""
    # The usual answer has one key per id, in the order asked: one comparison of the keys
    # joined saves a string and a lookup per id. Equal lengths and equal joins mean equal keys.
    if len(data) == len(ids) and ",".join(data) == id_text(ids):
        return list(data.values())
    return list(map(data.get, map(str, ids)))


def parse_outcomes(body: bytes, ids: Sequence[int]) -> list[Outcome]:
    """:func:`read_outcomes` as a list of :class:`Outcome`."""
    return list(read_outcomes(body, ids))


def _usable_record_ids(record_ids: list[Any]) -> bool:
    return not record_ids or (
        set(map(type, record_ids)) == {int}
        and min(record_ids) > 0
        and max(record_ids) <= _MAX_RECORD_ID
    )


def _read_each(body: bytes, ids: Sequence[int], entries: list[Any]) -> Outcomes:
    """The outcomes of an unusual answer, id by id."""
    statuses: list[str] = []
    record_ids: list[int | None] = []
    details: dict[int, str] = {}
    missing: str | None = None
    for k, entry in enumerate(entries):
        status = entry.get("status") if type(entry) is dict else None
        if status == REMOVED:
            record_id = entry.get("record_id")
            if type(record_id) is int and 0 < record_id <= _MAX_RECORD_ID:
                statuses.append(REMOVED)
                record_ids.append(record_id)
                continue
        elif status in (NOT_EXIST, CALL_IN_PROGRESS):
            statuses.append(status)
            record_ids.append(None)
            continue
        outcome = _outcome(ids[k], entry)
        statuses.append(outcome.status)
        record_ids.append(outcome.record_id)
        if outcome.detail is not None:
            details[k] = outcome.detail
        elif outcome.status == MISSING:
            # No entry to keep: keep the start of the answer as it came.
            if missing is None:
                missing = f"no entry for this id in the answer: {excerpt(body, 200)}"
            details[k] = missing
    return Outcomes(ids, statuses, record_ids, details)


def _outcome(customer_id: int, entry: Any) -> Outcome:
    if entry is None:
        return Outcome(customer_id, MISSING, None, None)
    if not isinstance(entry, dict):
        return Outcome(customer_id, MALFORMED, None, _raw(entry))
    status = entry.get("status")
    if status == REMOVED:
        record_id = entry.get("record_id")
        if type(record_id) is int and 0 < record_id <= _MAX_RECORD_ID:
            return Outcome(customer_id, REMOVED, record_id, None)
        # Removed by the server's word, but the record id is unusable: keep the entry.
        return Outcome(customer_id, REMOVED, None, _raw(entry))
    if status in (NOT_EXIST, CALL_IN_PROGRESS):
        return Outcome(customer_id, status, None, None)
    if isinstance(status, str):
        return Outcome(customer_id, status, None, _raw(entry))
    return Outcome(customer_id, MALFORMED, None, _raw(entry))


def _raw(entry: Any) -> str:
    try:
        return orjson.dumps(entry).decode()[:_EXCERPT]
    except TypeError:  # pragma: no cover - orjson.loads output always serialises
        return repr(entry)[:_EXCERPT]


def error_message(status: int, body: bytes) -> str:
    """A one-line description of an error answer, using the documented error body if present.

    ``{"request_id": "...", "errors": [{"message": "...", "code": 123}]}`` becomes
    ``HTTP 401: Unauthorized (code 401) [request_id ...]``.
    """
    parts: list[str] = []
    request_id = None
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            for error in errors[:5]:
                if isinstance(error, dict):
                    message = str(error.get("message", "")).strip()[:200]
                    code = error.get("code")
                    parts.append(f"{message} (code {code})" if code is not None else message)
        rid = data.get("request_id")
        request_id = str(rid)[:64] if rid is not None else None
    text = "; ".join(p for p in parts if p)
    if not text and body and data is None:
        text = " ".join(excerpt(body, 120).split())
    line = f"HTTP {status}" + (f": {text}" if text else "")
    if request_id:
        line += f" [request_id {request_id}]"
    return line


def mentions_url_length(body: bytes) -> bool:
    """True when a 400 answer says the URL or request line is too long."""
    lowered = body[:4096].lower()
    return (b"too long" in lowered or b"too large" in lowered or b"length" in lowered) and (
        b"url" in lowered or b"uri" in lowered or b"request line" in lowered
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None.

    ``now`` is the current unix time, injected so tests need no clock. Past dates give 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now)
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds
