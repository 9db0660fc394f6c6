"""Adding records through the API: the CRM batch add and the phone campaigns' single add.

- ``POST batch/crm_outbounds/{c}/records`` ``{"records": [{"customer_id": 441, ...}]}`` answers
  one entry per customer id: ``ADDED`` (201, the new record id), ``ALREADY_EXISTS`` (409, the
  record id it has) or ``FAILED`` (400, with a ``message``).
- ``POST outbounds/{c}/records`` ``{"phone_number": "48500100200", ...}`` answers 201
  ``{"record_id": "231"}``, 409 for a number the campaign holds already, 400 for a bad field.

The fields a record takes are the API's: ``status_id`` (its system status is the one the
campaign's seed gave that status id; ``TO_CALL`` when it gave none), ``agent_login`` (required
for ``MY_RECORD``, and one of the known agents when the server has a list), ``next_call_date``
(``YYYY-MM-DD hh:mm``, required for ``MY_RECORD`` and ``CALL_NO_SOONER_THAN``; a date in the past
is taken), ``order``; phone records also ``identifier`` and ``record_fields``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bulkremove.sandbox.detailed import CRM, DEFAULT_STATUS_ID, PHONE, Record
from bulkremove.sandbox.recordfile import is_phone_number
from bulkremove.sandbox.state import Campaign

_MINUTES = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")
_COMMON = frozenset({"status_id", "dictionary_status_id", "agent_login", "next_call_date", "order"})
_FIELDS = {
    CRM: _COMMON | {"customer_id"},
    PHONE: _COMMON | {"phone_number", "identifier", "record_fields"},
}
_DATED = frozenset({"MY_RECORD", "CALL_NO_SOONER_THAN"})


class AddRefused(ValueError):
    """One record cannot be added; the message says why, ``status`` is the HTTP answer's."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def add_customers(
    campaign: Campaign, body: object, agents: frozenset[str] | None, created: str
) -> tuple[dict[str, dict[str, object]], int]:
    """The batch add's answer, keyed by customer id, and how many were added; ValueError when
    ``body`` is not ``{"records": [...]}`` of objects with a customer id (nothing added)."""
    items = body.get("records") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ValueError('body must be {"records": [{"customer_id": ..., ...}, ...]}')
    cids: list[int] = []
    for place, item in enumerate(items, start=1):
        cid = item.get(CRM) if isinstance(item, dict) else None
        if not isinstance(cid, int) or isinstance(cid, bool) or cid < 1:
            raise ValueError(f"record {place}: customer_id {cid!r} must be a positive integer")
        cids.append(cid)
    answer: dict[str, dict[str, object]] = {}
    added = 0
    for item, cid in zip(items, cids, strict=True):
        present = campaign.customer(cid)
        if present is not None:
            answer[str(cid)] = {
                "http_status": 409,
                "record_id": present.record_id,
                "status": "ALREADY_EXISTS",
            }
            continue
        try:
            record = new_record(campaign, item, CRM, cid, agents, created)
        except AddRefused as exc:
            answer[str(cid)] = {"http_status": 400, "status": "FAILED", "message": str(exc)}
            continue
        campaign.add([record])
        added += 1
        answer[str(cid)] = {"http_status": 201, "record_id": record.record_id, "status": "ADDED"}
    return answer, added


def add_number(
    campaign: Campaign, body: object, agents: frozenset[str] | None, created: str
) -> int:
    """Add the one phone record of ``body``: its record id; AddRefused (409 for a number the
    campaign holds, else 400) when it cannot be added."""
    if not isinstance(body, dict):
        raise AddRefused("body must be a JSON object with phone_number")
    number = body.get(PHONE)
    if not isinstance(number, str) or not is_phone_number(number):
        raise AddRefused(f"phone_number {number!r} is not a phone number (ASCII digits only)")
    if campaign.rows.with_key(number):
        raise AddRefused(f"phone_number {number} is already in campaign {campaign.name}", 409)
    record = new_record(campaign, body, PHONE, number, agents, created)
    campaign.add([record])
    return record.record_id


def new_record(
    campaign: Campaign,
    item: dict[str, Any],
    target: str,
    key: int | str,
    agents: frozenset[str] | None,
    created: str,
) -> Record:
    """The record ``item`` describes, with the next record id; AddRefused saying why not."""
    unknown = set(item) - _FIELDS[target]
    if unknown:
        raise AddRefused(f"{sorted(unknown)[0]!r} is not a field of an added record")
    status_id = item.get("status_id", DEFAULT_STATUS_ID)
    if isinstance(status_id, int) and not isinstance(status_id, bool) and status_id >= 0:
        status_id = str(status_id)
    if not isinstance(status_id, str) or not is_phone_number(status_id):
        raise AddRefused(f"status_id {status_id!r} must be a whole number")
    system_status = campaign.statuses.get(status_id)
    if system_status is None:
        raise AddRefused(f"status_id {status_id} is not a status of campaign {campaign.name}")
    agent = item.get("agent_login")
    if agent is not None and not isinstance(agent, str):
        raise AddRefused(f"agent_login {agent!r} must be a string")
    if system_status == "MY_RECORD" and not agent:
        raise AddRefused("agent_login is required for a MY_RECORD status")
    if agent is not None and agents is not None and agent not in agents:
        raise AddRefused(f"agent_login {agent[:40]!r} is not a known agent")
    when = item.get("next_call_date")
    if when is not None and not _is_minute(when):
        raise AddRefused(f"next_call_date {str(when)[:40]!r} must be YYYY-MM-DD hh:mm")
    if system_status in _DATED and when is None:
        raise AddRefused(f"next_call_date is required for a {system_status} status")
    order = item.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        raise AddRefused(f"order {order!r} must be an integer")
    identifier = item.get("identifier")
    fields = item.get("record_fields", {})
    if (identifier is not None and not isinstance(identifier, str)) or not isinstance(fields, dict):
        raise AddRefused("identifier must be a string, record_fields an object")
    return Record(
        record_id=campaign.next_record_id,
        key=key,
        system_status=system_status,
        status_id=status_id,
        create_date=created,
        next_call_date=None if when is None else f"{when}:00",
        agent_login=agent,
        order=order,
        identifier=identifier,
        record_fields=dict(fields),
    )


def _is_minute(value: object) -> bool:
    if not isinstance(value, str) or not _MINUTES.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d %H:%M")
    except ValueError:
        return False
    return True
