"""Reading a campaign: the listing (filtered, counted, paged), one customer's record, statuses.

A campaign seeded from a range may hold millions of records, all alike but for the system
statuses changed since. So the listing never walks it: whether a seeded record matches depends on
its status alone, the few changed ones are sorted out, and the page is found by counting bits
(:meth:`RangeRecords.select`). Only the records of the page are made. Detailed records, fewer,
follow the seeded ones in order of addition and are filtered one by one.
"""

from __future__ import annotations

from bisect import bisect_right

from aiohttp import web

from bulkremove.sandbox.detailed import (
    CRM,
    DEFAULT_SYSTEM_STATUS,
    Record,
    base_record,
    listing_entry,
    status_name,
)
from bulkremove.sandbox.filters import Filters, listing_query
from bulkremove.sandbox.records import RangeRecords, SetRecords
from bulkremove.sandbox.responses import (
    CODE_NOT_FOUND,
    CODE_VALIDATION,
    ValidationError,
    error_response,
    json_response,
)
from bulkremove.sandbox.state import Campaign
from bulkremove.sandbox.stats import Stats

_MAX_ID_CHARS = 19


def page(campaign: Campaign, filters: Filters, offset: int, limit: int) -> tuple[int, list[Record]]:
    """How many records of ``campaign`` match ``filters``, and those at ``offset..+limit``."""
    base = campaign.records
    overrides = campaign.overrides
    verdicts: dict[str, bool] = {}

    def matches(status: str) -> bool:
        # A seeded record differs from the others only by its status.
        if status not in verdicts:
            verdicts[status] = filters.matches(base_record(0, status))
        return verdicts[status]

    alike = matches(DEFAULT_SYSTEM_STATUS)
    # The changed records that break from the rest: left out if the rest match, else let in.
    odd = sorted(
        cid for cid, status in overrides.items() if matches(status) != alike and cid in base
    )
    base_count = len(base) - len(odd) if alike else len(odd)
    rows = [record for record in campaign.rows.by_id.values() if filters.matches(record)]
    found: list[Record] = []
    if offset < base_count and limit > 0:
        cids = _window(base, odd, offset, limit) if alike else odd[offset : offset + limit]
        found = [base_record(cid, overrides.get(cid, DEFAULT_SYSTEM_STATUS)) for cid in cids]
    start = max(0, offset - base_count)
    found += rows[start : start + limit - len(found)]
    return base_count + len(rows), found


def _window(
    base: RangeRecords | SetRecords, left_out: list[int], offset: int, limit: int
) -> list[int]:
    """Up to ``limit`` present ids from the ``offset``-th on, ``left_out`` (sorted) skipped."""
    # The offset-th kept id is the (offset + j)-th present one, j the left-out ids before it;
    # j grows to its fixed point in at most len(left_out) + 1 rounds.
    skipped = 0
    while True:
        first = base.select(offset + skipped)
        before = bisect_right(left_out, first)
        if before == skipped:
            break
        skipped = before
    skip = set(left_out)
    window: list[int] = []
    for cid in base.iter_from(first):
        if cid not in skip:
            window.append(cid)
            if len(window) == limit:
                break
    return window


def answer_listing(campaign: Campaign, query: str, stats: Stats) -> web.Response:
    """``GET crm_outbounds|outbounds/{campaign}/records``: ``{"count": N, "result": [...]}``."""
    try:
        asked = listing_query(query)
    except ValidationError as exc:
        return error_response(400, str(exc), CODE_VALIDATION)
    churn = campaign.churn
    if churn is not None:
        churn.before_listing(campaign)
    count, records = page(campaign, asked.filters, asked.offset, asked.limit)
    stats.gets += 1
    target = campaign.target
    return json_response(
        {"count": count, "result": [listing_entry(record, target) for record in records]}
    )


def answer_customer(campaign: Campaign, text: str, stats: Stats) -> web.Response:
    """``GET crm_outbounds/{campaign}/records/{customer_id}``: the record, or 404."""
    if not (text.isascii() and text.isdigit()):
        return error_response(400, f"customer_id {text[:40]!r} must be an integer", CODE_VALIDATION)
    found = campaign.customer(int(text)) if len(text.lstrip("0")) <= _MAX_ID_CHARS else None
    stats.gets += 1
    if found is None:
        return error_response(
            404, f"customer {text[:40]} is not in campaign {campaign.name}", CODE_NOT_FOUND
        )
    return json_response(listing_entry(found, CRM))


def answer_statuses(campaign: Campaign) -> web.Response:
    """``GET outbounds/{campaign}/statuses``: one entry per status id its records use."""
    used: dict[str, str] = {}  # status id -> the system status of its first record
    if campaign.records:
        first = campaign.records.select(0)
        used["1"] = campaign.overrides.get(first, DEFAULT_SYSTEM_STATUS)
    for record in campaign.rows.by_id.values():
        used.setdefault(record.status_id, record.system_status)
    return json_response(
        [
            {
                "system_status": system_status,
                "status_id": status_id,
                "dictionary_status_id": int(status_id),
                "name": status_name(status_id),
            }
            for status_id, system_status in sorted(used.items(), key=lambda i: int(i[0]))
        ]
    )
