"""Detailed records: statuses, dates and calls of a campaign's records, and their JSON shapes.

A campaign seeded from a range or a list of ids keeps only a bitmap or a set of customer ids; its
records are all alike (``TO_CALL``, status ``"1"``, created 2025-01-01), so each is made on demand
from its customer id by :func:`base_record`. Records seeded from a JSON file, or put back later,
are :class:`Record` objects held by :class:`Rows` in order of addition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bulkremove.sandbox.responses import RECORD_ID_OFFSET
from bulkremove.settings.where import SYSTEM_STATUSES  # the one list: the client checks the same

CRM = "customer_id"
PHONE = "phone_number"
TARGETS = (CRM, PHONE)
"""A campaign's kind, named by the key its records carry."""

DEFAULT_SYSTEM_STATUS = "TO_CALL"
DEFAULT_STATUS_ID = "1"
DEFAULT_CREATE_DATE = "2025-01-01 00:00:00"


@dataclass(slots=True)
class Record:
    """One record; ``key`` is its customer id (CRM) or phone number (phone campaigns)."""

    record_id: int
    key: int | str
    system_status: str = DEFAULT_SYSTEM_STATUS
    status_id: str = DEFAULT_STATUS_ID
    create_date: str = DEFAULT_CREATE_DATE
    call_date: str | None = None
    next_call_date: str | None = None
    agent_login: str | None = None
    order: int = 0
    identifier: str | None = None
    record_fields: dict[str, object] = field(default_factory=dict)
    additional_numbers: tuple[str, ...] = ()
    # When the record's own call ends (clock time; inf: never); in a seed, seconds from start.
    call_end: float | None = None


def unknown_status(name: str, value: object) -> str:
    """What is wrong with a system status ``value`` that is not one of SYSTEM_STATUSES."""
    shown = value[:40] if isinstance(value, str) else value
    return f"{name} {shown!r} must be one of {', '.join(SYSTEM_STATUSES)}"


def base_record(cid: int, system_status: str = DEFAULT_SYSTEM_STATUS) -> Record:
    """The record of customer ``cid`` in a campaign seeded from a range or a list of ids."""
    return Record(cid + RECORD_ID_OFFSET, cid, system_status)


def listing_entry(record: Record, target: str) -> dict[str, object]:
    """A record as the listing and single-record GETs show it."""
    entry: dict[str, object] = {"record_id": record.record_id, target: record.key}
    if target == PHONE:
        entry["identifier"] = record.identifier
        entry["record_fields"] = record.record_fields
    entry.update(
        system_status=record.system_status,
        status_id=record.status_id,
        status=status_name(record.status_id),
        create_date=record.create_date,
        call_date=record.call_date,
        next_call_date=record.next_call_date,
        agent_name=None,
        agent_login=record.agent_login,
        last_note=None,
        order=record.order,
    )
    return entry


def detail_entry(record: Record, target: str, in_call: bool) -> dict[str, object]:
    """A record as the admin detail view shows it: the listing shape, its call, its numbers."""
    entry = listing_entry(record, target)
    if target == PHONE:
        entry["additional_numbers"] = list(record.additional_numbers)
    entry["in_call"] = in_call
    return entry


def status_name(status_id: str) -> str:
    """The name of a campaign status: the sandbox has no dictionary, so it is made up."""
    return f"Status {status_id}"


class Rows:
    """Records added one by one, in order of addition, found by record id, key or number."""

    __slots__ = ("_by_extra", "_by_key", "_place", "_placed", "by_id")

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self.by_id: dict[int, Record] = {}
        self._by_key: dict[int | str, list[int]] = {}
        self._by_extra: dict[int | str, list[int]] = {}
        self._place: dict[int, int] = {}  # record id -> place in order of addition
        self._placed = 0
        for record in records:
            self.add(record)

    def __len__(self) -> int:
        return len(self.by_id)

    def add(self, record: Record) -> None:
        """Add ``record`` after all others; its record id must be new."""
        rid = record.record_id
        self.by_id[rid] = record
        self._place[rid] = self._placed
        self._placed += 1
        self._by_key.setdefault(record.key, []).append(rid)
        for number in dict.fromkeys(record.additional_numbers):
            self._by_extra.setdefault(number, []).append(rid)

    def remove(self, rid: int) -> None:
        """Forget record ``rid``."""
        record = self.by_id.pop(rid)
        del self._place[rid]
        _unindex(self._by_key, record.key, rid)
        for number in dict.fromkeys(record.additional_numbers):
            _unindex(self._by_extra, number, rid)

    def with_key(self, key: int | str) -> list[Record]:
        """Records whose key is ``key``, in order of addition."""
        return [self.by_id[rid] for rid in self._by_key.get(key, ())]

    def with_number(self, number: str, additional: bool) -> list[Record]:
        """Records whose phone number is ``number`` (or, if ``additional``, one of their extra
        numbers), in order of addition."""
        rids = self._by_key.get(number, [])
        if additional and number in self._by_extra:
            both = set(rids).union(self._by_extra[number])
            rids = sorted(both, key=self._place.__getitem__)
        return [self.by_id[rid] for rid in rids]


def _unindex(index: dict[int | str, list[int]], key: int | str, rid: int) -> None:
    rids = index[key]
    rids.remove(rid)
    if not rids:
        del index[key]
