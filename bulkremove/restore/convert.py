"""What the add takes, from what the listing showed: one record's add entry. Pure code.

The listing shows ``next_call_date`` with seconds (``2026-12-24 09:30:00``); the add documents
``YYYY-MM-DD hh:mm``, so seconds are dropped (a date alone gets ``00:00``). ``status_id`` is
sent as a number when it is one, as the API's examples write it. ``agent_login``,
``next_call_date``, ``order`` go as listed; phone records also take ``identifier`` and
``record_fields``. The system status is the campaign's for that status id: it is not sent.
What the API may refuse is sent as it is and its answer recorded; :func:`concerns` names it
beforehand (a ``MY_RECORD`` without an agent, a call date in the past).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bulkremove.kinds import Kind

_DATE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([0-9]{2}:[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)
_DATED = frozenset({"MY_RECORD", "CALL_NO_SOONER_THAN"})
_PHONE_ONLY = ("identifier", "record_fields")


def minute(value: Any) -> Any:
    """A listed date as the add takes it, ``YYYY-MM-DD hh:mm``; anything unreadable as it is
    (the API says what it makes of it)."""
    if not isinstance(value, str):
        return value
    found = _DATE.fullmatch(value.strip())
    if found is None:
        return value
    return f"{found[1]} {found[2] or '00:00'}"


def add_entry(fields: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    """The add's entry for a record listed as ``fields`` (a campaign of ``kind``)."""
    entry: dict[str, Any] = {kind.name: fields.get(kind.name)}
    status_id = fields.get("status_id")
    if isinstance(status_id, str) and status_id.isascii() and status_id.isdigit():
        status_id = int(status_id)
    if status_id is not None:
        entry["status_id"] = status_id
    for name in ("agent_login", "next_call_date", "order"):
        value = fields.get(name)
        if value is not None:
            entry[name] = minute(value) if name == "next_call_date" else value
    if kind.several_records:
        for name in _PHONE_ONLY:
            value = fields.get(name)
            if value not in (None, {}):
                entry[name] = value
    return entry


def concerns(fields: Mapping[str, Any], now: str) -> list[str]:
    """What the API may refuse in a record listed as ``fields``, or change, said for people;
    ``now`` is the time as ``YYYY-MM-DD hh:mm``."""
    status = fields.get("system_status")
    when = minute(fields.get("next_call_date"))
    said = []
    if status == "MY_RECORD" and not fields.get("agent_login"):
        said.append("MY_RECORD without an agent_login")
    if status in _DATED and when is None:
        said.append(f"{status} without a next_call_date")
    if isinstance(when, str) and when < now and status in _DATED:
        said.append(f"{status} next_call_date {when} is in the past")
    return said
