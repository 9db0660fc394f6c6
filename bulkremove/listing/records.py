"""A listed record, read by the kind of key its campaign is listed by. Pure code.

A listing entry is kept whole (its fields as listed, for the journal's snapshot); what the
selection needs of it is read out once: the record id, the journal's key of what a DELETE names
it by (:attr:`bulkremove.kinds.Kind.listed_key`), and the system status.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from bulkremove.errors import BadAnswerError
from bulkremove.kinds import Kind

_MAX_RECORD_ID = (1 << 63) - 1


class ListedRecord(NamedTuple):
    """One record as a listing (or the single-record GET) gave it."""

    record_id: int
    key: int
    """The journal's key of its customer id or phone number: what a DELETE names it by."""
    system_status: str | None
    fields: dict[str, Any]
    """The entry as listed, every field (the phone number as the text listed)."""


def read_record(entry: Any, kind: Kind) -> ListedRecord:
    """One listing entry as a record; BadAnswerError when it lacks a record id or a key."""
    if not isinstance(entry, dict):
        raise BadAnswerError(f"a listed record is not an object: {str(entry)[:80]}")
    record_id = entry.get("record_id")
    if isinstance(record_id, str) and record_id.isascii() and record_id.isdigit():
        record_id = int(record_id)  # be liberal: some answers write ids as text
    if isinstance(record_id, bool) or not isinstance(record_id, int):
        raise BadAnswerError(f"a listed record has no record_id: {str(entry)[:120]}")
    if not 0 <= record_id <= _MAX_RECORD_ID:
        raise BadAnswerError(f"a listed record_id is out of range: {record_id}")
    key = kind.listed_key(entry.get(kind.name))
    if key is None:
        raise BadAnswerError(f"a listed record has no usable {kind.name}: {str(entry)[:120]}")
    status = entry.get("system_status")
    return ListedRecord(record_id, key, status if isinstance(status, str) else None, entry)
