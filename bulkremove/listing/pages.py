"""The pages of a listing: their request-targets and the reading of their answers. Pure code.

``GET {crm_outbounds|outbounds}/{campaign}/records?limit=100&offset=N&<filters>`` answers
``{"count": N, "result": [record, ...]}``, where ``count`` is how many records match now (not
the page's size). Pages are asked by offset, 100 at a time, the most the API gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from bulkremove.errors import BadAnswerError, InputError
from bulkremove.ids import is_campaign_id
from bulkremove.kinds import CUSTOMER_ID, Kind
from bulkremove.listing.records import ListedRecord, read_record
from bulkremove.settings.where import Filters

PAGE_SIZE = 100
"""Records per page: the API's largest ``limit``."""


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of a listing as answered."""

    offset: int
    count: int
    """How many records matched when the page was read."""
    records: list[ListedRecord]

    @property
    def next_offset(self) -> int:
        """The offset of the page after this one."""
        return self.offset + PAGE_SIZE

    @property
    def last(self) -> bool:
        """True when no page follows: the count is reached, or the page came back empty."""
        return not self.records or self.next_offset >= self.count


def page_target(kind: Kind, campaign: str, filters: Filters | None, offset: int) -> str:
    """The encoded path and query (below the API root) of the page at ``offset``."""
    query = f"limit={PAGE_SIZE}&offset={offset}"
    if filters is not None:
        query += "&" + filters.query()
    return f"{kind.listing_path}/{_campaign(campaign)}/records?{query}"


def record_target(campaign: str, customer_id: int) -> str:
    """The encoded path of one CRM record: ``crm_outbounds/{campaign}/records/{customer_id}``."""
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1:
        raise InputError(f"refusing to ask for customer id {customer_id!r}: not a positive int")
    return f"{CUSTOMER_ID.listing_path}/{_campaign(campaign)}/records/{customer_id}"


def read_page(body: bytes, kind: Kind, offset: int) -> ListingPage:
    """A page's answer; BadAnswerError when it is not ``{"count": N, "result": [...]}``."""
    data = _json(body)
    count = data.get("count") if isinstance(data, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    if isinstance(count, str) and count.isascii() and count.isdigit():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadAnswerError(f"listing answer at offset {offset} has no count: {_shown(body)}")
    if not isinstance(result, list):
        raise BadAnswerError(f"listing answer at offset {offset} has no result: {_shown(body)}")
    return ListingPage(offset, count, [read_record(entry, kind) for entry in result])


def read_one(body: bytes, kind: Kind) -> ListedRecord:
    """The single-record GET's answer: the record itself (or wrapped in ``result``)."""
    data = _json(body)
    if isinstance(data, dict) and "record_id" not in data and isinstance(data.get("result"), dict):
        data = data["result"]
    return read_record(data, kind)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadAnswerError(f"listing answer is not JSON: {_shown(body)}") from None


def _shown(body: bytes) -> str:
    text = body[:120].decode("utf-8", "replace")
    return " ".join(text.split()) + ("…" if len(body) > 120 else "")


def _campaign(campaign: str) -> str:
    if not isinstance(campaign, str) or not is_campaign_id(campaign):
        raise InputError(
            f"refusing to list campaign id {str(campaign)[:40]!r}: "
            "not exactly 5 characters of [0-9A-Za-z]"
        )
    return campaign
