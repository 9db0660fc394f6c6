"""The listing's query: which records (filters) and which page of them (offset, limit).

Pure: parsed from a raw query string, checked, and matched against records without a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl

from bulkremove.sandbox.detailed import Record, unknown_status
from bulkremove.sandbox.responses import ValidationError
from bulkremove.settings.where import SYSTEM_STATUSES

DEFAULT_LIMIT = 100
MAX_LIMIT = 100
DATE_KEYS = ("create_date_from", "create_date_to", "call_date_from", "call_date_to")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNT = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class Filters:
    """What a record must be to be listed: each filter given must hold (an empty set: any)."""

    system_status: frozenset[str] = frozenset()
    status_id: frozenset[str] = frozenset()
    create_date_from: str | None = None
    create_date_to: str | None = None
    call_date_from: str | None = None
    call_date_to: str | None = None

    def matches(self, record: Record) -> bool:
        """True if ``record`` passes every filter; dates compare by their date part."""
        if self.system_status and record.system_status not in self.system_status:
            return False
        if self.status_id and record.status_id not in self.status_id:
            return False
        created = record.create_date[:10]
        if self.create_date_from is not None and created < self.create_date_from:
            return False
        if self.create_date_to is not None and created > self.create_date_to:
            return False
        if self.call_date_from is None and self.call_date_to is None:
            return True
        if record.call_date is None:
            return False  # never called: no call-date filter matches
        called = record.call_date[:10]
        if self.call_date_from is not None and called < self.call_date_from:
            return False
        return self.call_date_to is None or called <= self.call_date_to


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """A listing request: its filters and the page asked."""

    filters: Filters
    offset: int = 0
    limit: int = DEFAULT_LIMIT


def check_date(value: str, name: str) -> str:
    """``value`` if it is a date as ``YYYY-MM-DD``; ValidationError naming ``name`` if not."""
    if _DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise ValidationError(f"{name} {value[:40]!r} is not a date as YYYY-MM-DD")


def listing_query(query: str) -> ListingQuery:
    """The listing request of a raw query string; ValidationError naming the first bad value.

    Keys other than the filters, ``limit`` and ``offset`` are ignored, as PHP does.
    """
    statuses: set[str] = set()
    status_ids: set[str] = set()
    dates: dict[str, str] = {}
    offset = 0
    limit = DEFAULT_LIMIT
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "system_status[]":
            if value not in SYSTEM_STATUSES:
                raise ValidationError(unknown_status("system_status[]", value))
            statuses.add(value)
        elif key == "status_id[]":
            status_ids.add(value)
        elif key in DATE_KEYS:
            dates[key] = check_date(value, key)
        elif key == "limit":
            limit = _count(value, key)
            if not 1 <= limit <= MAX_LIMIT:
                raise ValidationError(f"limit {limit} must be 1..{MAX_LIMIT}")
        elif key == "offset":
            offset = _count(value, key)
    filters = Filters(frozenset(statuses), frozenset(status_ids), **dates)
    return ListingQuery(filters, offset, limit)


def _count(value: str, name: str) -> int:
    if _COUNT.fullmatch(value):
        return int(value)
    raise ValidationError(f"{name} {value[:40]!r} must be a whole number")
