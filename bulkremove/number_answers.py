"""Reading answers that give each key a list, one entry per record it matched. Pure code.

The phone-number endpoint answers ``{"441": [{"status": "REMOVED", "record_id": 5}, ...]}``. Each
number is judged on its whole list and given one status, so that the engine, the scheduler and
the journal treat it as one key: REMOVED when every record found was removed, NOT_EXIST when
none was found, CALL_IN_PROGRESS when any is in a call (its removed siblings are kept at once),
else the odd status with the raw list as detail. The record ids removed go in
:attr:`Outcomes.removed`, whatever the number's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from bulkremove.answers import (
    CALL_IN_PROGRESS,
    MALFORMED,
    MISSING,
    NOT_EXIST,
    REMOVED,
    Outcomes,
    excerpt,
    load_object,
    read_not_found,
)
from bulkremove.ids import phone_number_of

_EXCERPT = 500
_MAX_RECORD_ID = (1 << 63) - 1


def read_number_outcomes(body: bytes, keys: Sequence[int]) -> Outcomes:
    """One outcome per key in ``keys``, in order, from a 200/207 body.

    Raises BadAnswerError when the body is not a JSON object. Entries for numbers not asked
    for are ignored; a number's entry is the one under exactly its digits.
    """
    data = load_object(body)
    statuses: list[str] = []
    details: dict[int, str] = {}
    removed: dict[int, list[int]] = {}
    for k, key in enumerate(keys):
        status, record_ids, detail = judge(data.get(phone_number_of(key)))
        statuses.append(status)
        if record_ids:
            removed[k] = record_ids
        if detail is not None:
            details[k] = detail
        elif status == MISSING:
            details[k] = f"no entry for this number in the answer: {excerpt(body, 200)}"
    return Outcomes(keys, statuses, [None] * len(keys), details, removed)


def read_numbers_not_found(body: bytes, keys: Sequence[int]) -> Outcomes | None:
    """The outcomes of a 404 that says NOT_EXIST for every number asked; else None."""
    return read_not_found(body, keys, read_number_outcomes)


def judge(entries: Any) -> tuple[str, list[int], str | None]:
    """A number's status, the record ids it removed, and its raw list when anything is odd."""
    if entries is None:
        return MISSING, [], None
    if type(entries) is not list:
        return MALFORMED, [], _raw(entries)
    removed: list[int] = []
    in_call = False
    odd: str | None = None
    for entry in entries:
        status = entry.get("status") if type(entry) is dict else None
        record_id = entry.get("record_id") if type(entry) is dict else None
        if status == REMOVED and type(record_id) is int and 0 < record_id <= _MAX_RECORD_ID:
            removed.append(record_id)
        elif status == CALL_IN_PROGRESS:
            in_call = True
        elif status == NOT_EXIST:
            pass  # beside REMOVED entries it changes nothing: no record is left
        elif odd is None:
            # an unknown status, an entry that is no object, or REMOVED without a usable id
            odd = status if isinstance(status, str) and status != REMOVED else MALFORMED
    if in_call:
        return CALL_IN_PROGRESS, removed, None
    if odd is not None:
        return odd, removed, _raw(entries)
    if removed:
        return REMOVED, removed, None
    return NOT_EXIST, [], None  # [NOT_EXIST], or [] (no record found either)


def _raw(value: Any) -> str:
    return orjson.dumps(value).decode()[:_EXCERPT]
