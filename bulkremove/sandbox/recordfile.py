"""Records described in JSON: a ``--records`` file, or the body of a put-back.

A file holds one campaign: ``{"campaign": "00007", "target": "phone_number", "records": [...]}``.
Every field of a record but its key may be left out. Anything else is refused with where and what,
before the server starts (or, for a put-back, before anything is added).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bulkremove.ids import check_campaign_id
from bulkremove.sandbox.config import MAX_SEED_ID, RecordsSeed
from bulkremove.sandbox.detailed import (
    CRM,
    PHONE,
    TARGETS,
    Record,
    unknown_status,
)
from bulkremove.settings.where import SYSTEM_STATUSES

_DIGITS = re.compile(r"[0-9]+")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?")
_COMMON = frozenset(
    {
        "record_id",
        "system_status",
        "status_id",
        "create_date",
        "call_date",
        "next_call_date",
        "agent_login",
        "order",
        "call",
    }
)
_FIELDS = {
    CRM: _COMMON | {"customer_id"},
    PHONE: _COMMON | {"phone_number", "additional_numbers", "identifier", "record_fields"},
}
_SHOWN_ONLY = frozenset({"status", "agent_name", "last_note", "in_call"})
"""Keys the listing shows but nobody sets: ignored, so a listed record can be posted back."""
ENDLESS = "endless"


def is_phone_number(text: str) -> bool:
    """One or more ASCII digits: the only phone numbers the sandbox knows."""
    return _DIGITS.fullmatch(text) is not None


def read_records_file(path: Path) -> RecordsSeed:
    """The campaign a ``--records`` file describes; ValueError saying ``file: what`` if bad."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from exc
    try:
        if not isinstance(document, dict):
            raise ValueError("must be a JSON object with campaign, target and records")
        extra = set(document) - {"campaign", "target", "records"}
        if extra:
            raise ValueError(f"unknown key {sorted(extra)[0]!r}")
        campaign = document.get("campaign")
        if not isinstance(campaign, str):
            raise ValueError("campaign must be a campaign id string")
        check_campaign_id(campaign)
        target = document.get("target")
        if target not in TARGETS:
            raise ValueError(f"target {target!r} must be one of {', '.join(TARGETS)}")
        records = parse_records(document.get("records"), target, now=0.0)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return RecordsSeed(campaign, target, tuple(sorted(records, key=lambda r: r.record_id)))


def parse_records(
    items: object,
    target: str,
    *,
    now: float,
    is_taken: Callable[[int], bool] = lambda rid: False,
    is_present: Callable[[int], bool] = lambda cid: False,
    next_id: int = 1,
) -> list[Record]:
    """Records of a JSON list, checked; ValueError naming the first bad one.

    Record ids not given count up from ``next_id``, skipping the ids given; ``is_taken`` says
    whether a record id is already in use. A call of N seconds ends at ``now + N``.
    ``is_present`` says whether a customer id is already in the campaign (customer ids are unique
    there; phone numbers need not be).
    """
    if not isinstance(items, list):
        raise ValueError("records must be a JSON list")
    used: set[int] = set()
    for place, item in enumerate(items, start=1):
        if isinstance(item, dict) and "record_id" in item:
            rid = _positive(item["record_id"], "record_id", f"record {place}")
            if rid in used:
                raise ValueError(f"record {place}: record_id {rid} is used twice")
            if is_taken(rid):
                raise ValueError(f"record {place}: record_id {rid} is already in the campaign")
            used.add(rid)
    records: list[Record] = []
    customers: set[int] = set()
    for place, item in enumerate(items, start=1):
        where = f"record {place}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: must be a JSON object")
        if "record_id" not in item:
            while next_id in used or is_taken(next_id):
                next_id += 1
            used.add(next_id)
            item = {**item, "record_id": next_id}
        try:
            record = _record(item, target, now)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        if target == CRM and isinstance(record.key, int):
            if record.key in customers or is_present(record.key):
                raise ValueError(f"{where}: customer_id {record.key} is already in the campaign")
            customers.add(record.key)
        records.append(record)
    return records


def _record(item: dict[str, Any], target: str, now: float) -> Record:
    unknown = set(item) - _FIELDS[target] - _SHOWN_ONLY
    if unknown:
        raise ValueError(f"key {sorted(unknown)[0]!r} is not a field of a {target} record")
    if target not in item:
        raise ValueError(f"{target} is required")
    key = _positive(item[CRM], CRM, "") if target == CRM else _number(item[PHONE], PHONE)
    extra = item.get("additional_numbers", [])
    if not isinstance(extra, list):
        raise ValueError("additional_numbers must be a list of phone numbers")
    system_status = item.get("system_status", "TO_CALL")
    if system_status not in SYSTEM_STATUSES:
        raise ValueError(unknown_status("system_status", system_status))
    status_id = item.get("status_id", "1")
    if isinstance(status_id, int) and not isinstance(status_id, bool) and status_id >= 0:
        status_id = str(status_id)
    if not isinstance(status_id, str) or not is_phone_number(status_id):
        raise ValueError(f"status_id {status_id!r} must be a string of digits")
    fields = item.get("record_fields", {})
    if not isinstance(fields, dict):
        raise ValueError("record_fields must be a JSON object")
    order = item.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        raise ValueError(f"order {order!r} must be an integer")
    create_date = _datetime(item.get("create_date", "2025-01-01 00:00:00"), "create_date")
    if create_date is None:
        raise ValueError("create_date must not be null")
    return Record(
        record_id=item["record_id"],
        key=key,
        system_status=system_status,
        status_id=status_id,
        create_date=create_date,
        call_date=_datetime(item.get("call_date"), "call_date"),
        next_call_date=_datetime(item.get("next_call_date"), "next_call_date"),
        agent_login=_text(item.get("agent_login"), "agent_login"),
        order=order,
        identifier=_text(item.get("identifier"), "identifier"),
        record_fields=fields,
        additional_numbers=tuple(_number(n, "additional_numbers") for n in extra),
        call_end=_call_end(item.get("call"), now),
    )


def _positive(value: object, name: str, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_SEED_ID:
        return value
    prefix = f"{where}: " if where else ""
    raise ValueError(f"{prefix}{name} {value!r} must be an integer in 1..2**63-1")


def _number(value: object, name: str) -> str:
    if isinstance(value, str) and is_phone_number(value):
        return value
    raise ValueError(f"{name} {value!r} is not a phone number (one or more ASCII digits)")


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name} {value!r} must be a string or null")


def _datetime(value: object, name: str) -> str | None:
    """``YYYY-MM-DD[ hh:mm[:ss]]``, written out in full; None stays None."""
    if value is None:
        return None
    if isinstance(value, str) and _DATETIME.fullmatch(value):
        full = (value + " 00:00:00"[len(value) - 10 :]) if len(value) < 19 else value
        try:
            datetime.strptime(full, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            pass
        else:
            return full
    raise ValueError(f"{name} {value!r} is not a date as YYYY-MM-DD hh:mm:ss")


def _call_end(value: object, now: float) -> float | None:
    if value is None:
        return None
    if value == ENDLESS:
        return math.inf
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    ):
        return now + value
    raise ValueError(f"call {value!r} must be null, a number of seconds or {ENDLESS!r}")
