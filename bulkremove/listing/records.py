"""A listed record, and the two kinds of campaign a listing reads: CRM customers or phone
numbers. Pure code.

A listing entry is kept whole (its fields as listed, for the journal's snapshot); what the
selection needs of it is read out once: the record id, the key a DELETE names it by, and the
system status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from bulkremove.errors import BadAnswerError
from bulkremove.ids import MAX_ID_DIGITS, parse_customer_id

_MAX_RECORD_ID = (1 << 63) - 1

Key = int | str
"""A customer id (int) or a phone number (a string of digits, leading zeros kept)."""


class ListedRecord(NamedTuple):
    """One record as a listing (or the single-record GET) gave it."""

    record_id: int
    key: Key
    """The customer id or the phone number: what a DELETE names the record by."""
    system_status: str | None
    fields: dict[str, Any]
    """The entry as listed, every field."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a kind of campaign is listed, and the field that keys its records."""

    field: str
    """``customer_id`` or ``phone_number``: the key's field, and the setting ``target``."""
    path: str
    """The listing's path segment: ``crm_outbounds`` or ``outbounds``."""

    def key_of(self, entry: dict[str, Any]) -> Key | None:
        """The entry's key, or None when it has none usable."""
        value = entry.get(self.field)
        if self.field == "phone_number":
            ok = isinstance(value, str) and value.isascii() and value.isdigit()
            return value if ok else None
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value if 0 < value < 10**MAX_ID_DIGITS else None
        return parse_customer_id(value) if isinstance(value, str) else None


CUSTOMERS = Target("customer_id", "crm_outbounds")
PHONE_NUMBERS = Target("phone_number", "outbounds")
TARGETS = {target.field: target for target in (CUSTOMERS, PHONE_NUMBERS)}
"""The targets by the setting's value."""


def read_record(entry: Any, target: Target) -> ListedRecord:
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
    key = target.key_of(entry)
    if key is None:
        raise BadAnswerError(f"a listed record has no usable {target.field}: {str(entry)[:120]}")
    status = entry.get("system_status")
    return ListedRecord(record_id, key, status if isinstance(status, str) else None, entry)
