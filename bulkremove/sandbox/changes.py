"""Changes behind a client's back, through the admin endpoints: records put back, statuses set,
churn switched on or off. Each body is checked whole before anything changes.

- ``POST /_sandbox/campaigns/{c}/records``   ``{"records": [...]}`` adds records; their record ids
- ``POST /_sandbox/campaigns/{c}/statuses``  ``{"records": {"<record_id>": "NO_CALL"}}``
- ``POST /_sandbox/campaigns/{c}/churn``     ``{"statuses", "per_request", "requests", "seed"}``;
                                             ``{"requests": 0}`` stops it
- ``GET  /_sandbox/campaigns/{c}/churn``     ``{"flipped": n}`` so far
"""

from __future__ import annotations

from bulkremove.sandbox.churn import Churn
from bulkremove.sandbox.detailed import CRM, unknown_status
from bulkremove.sandbox.recordfile import parse_records
from bulkremove.sandbox.state import Campaign
from bulkremove.settings.where import SYSTEM_STATUSES


def put_back(campaign: Campaign, body: object, now: float) -> dict[str, object]:
    """Add the records of ``body`` after all others; ValueError (nothing added) if one is bad."""
    if not isinstance(body, dict) or set(body) != {"records"}:
        raise ValueError('body must be {"records": [...]}')
    records = parse_records(
        body["records"],
        campaign.target,
        now=now,
        is_taken=lambda rid: campaign.record(rid) is not None,
        is_present=lambda cid: campaign.target == CRM and campaign.customer(cid) is not None,
        next_id=campaign.next_record_id,
    )
    return {"record_ids": campaign.add(records)}


def set_statuses(campaign: Campaign, body: object) -> dict[str, object]:
    """Give records the system statuses of ``body``; ValueError (nothing changed) if one is bad."""
    records = body.get("records") if isinstance(body, dict) and set(body) == {"records"} else None
    if not isinstance(records, dict):
        raise ValueError('body must be {"records": {"<record_id>": "<system status>", ...}}')
    changes: dict[int, str] = {}
    for key, status in records.items():
        if not (key.isascii() and key.isdigit()) or campaign.record(int(key)) is None:
            raise ValueError(f"record {key[:40]!r} is not in campaign {campaign.name}")
        if status not in SYSTEM_STATUSES:
            raise ValueError(unknown_status(f"record {key}: system status", status))
        changes[int(key)] = status
    for rid, status in changes.items():
        campaign.set_status(rid, status)
    return {"changed": len(changes)}


def start_churn(campaign: Campaign, body: object) -> dict[str, object]:
    """Switch churn on (or off with ``{"requests": 0}``); ValueError if ``body`` is bad."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    unknown = set(body) - {"statuses", "per_request", "requests", "seed"}
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r}")
    if body.get("requests") == 0:
        if campaign.churn is not None:
            campaign.churn.requests = 0  # stopped; its flips stay counted
        return churn_so_far(campaign)
    statuses = body.get("statuses")
    if not (isinstance(statuses, list) and len(statuses) == 2):
        raise ValueError("statuses must be a list of two system statuses")
    per_request = _whole(body.get("per_request"), "per_request")
    requests = body.get("requests")
    if requests is not None:
        requests = _whole(requests, "requests")
    seed = _whole(body.get("seed", 0), "seed")
    campaign.churn = Churn((statuses[0], statuses[1]), per_request, requests, seed)
    return {"flipped": 0}


def churn_so_far(campaign: Campaign) -> dict[str, object]:
    """How many records churn has flipped in ``campaign`` since it was last switched on."""
    return {"flipped": 0 if campaign.churn is None else campaign.churn.flipped}


def _whole(value: object, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{name} {value!r} must be a whole number")
