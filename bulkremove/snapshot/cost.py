"""What a snapshot costs, which way it is taken, and whether ``auto`` takes it. Pure code.

A campaign's snapshot is taken by listing the whole campaign (a GET per page, pages overlapping
as a selection's do) or by one GET per record (CRM campaigns only: phone campaigns have no
single-record GET), whichever sends fewer requests. ``snapshot = "auto"`` takes it when those
GETs add at most a quarter to the requests the run sends; ``always`` takes it whatever it
costs; ``off`` never.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Way = Literal["listing", "record"]
SETTINGS = ("auto", "always", "off")
AUTO_SHARE = 0.25
"""``auto`` takes a snapshot whose GETs add at most this share to the run's requests."""


def listing_pages(records: int) -> int:
    """The GETs that list a campaign of ``records`` records, pages overlapping (at least one)."""
    from bulkremove.listing.pages import PAGE_SIZE
    from bulkremove.listing.passes import STEP  # the listing loads once it is needed

    return 1 + math.ceil(max(0, records - PAGE_SIZE) / STEP)


def cheaper_way(keys: int, records: int | None, single_get: bool) -> Way:
    """The way to snapshot ``keys`` keys in a campaign of ``records``: fewer GETs wins, ties go
    to single GETs (they see exactly the records asked for). None records: not counted."""
    if not single_get:
        return "listing"
    if records is None:
        return "record"
    return "listing" if listing_pages(records) < keys else "record"


def needs_count(keys: int, single_get: bool) -> bool:
    """Whether the campaign's size must be asked to choose the way: one key goes by one GET."""
    return not single_get or keys > 1


def least_cost(keys: Mapping[str, int], single_get: bool) -> int:
    """The fewest GETs a snapshot of ``keys`` per campaign costs, without counting a campaign,
    if each key is a record of its campaign: a campaign holds at least as many records."""
    return sum(campaign_cost(n, n, single_get) or 0 for n in keys.values() if n)


def within_share(cost: int, requests: int) -> bool:
    """Whether ``cost`` GETs add at most :data:`AUTO_SHARE` to ``requests`` requests."""
    return cost <= requests * AUTO_SHARE


@dataclass(frozen=True, slots=True)
class SnapshotPlan:
    """The snapshot a run plans: whether it is taken, how, and what it costs."""

    setting: str
    take: bool
    ways: dict[str, Way]
    """The way per campaign (empty when not taken and not costed)."""
    records: dict[str, int | None]
    """How many records each campaign held when counted (None: not counted)."""
    cost: int | None
    """GETs the snapshot sends (None: unknown, a campaign could not be counted)."""
    requests: int
    """The run's requests the cost is weighed against."""
    reason: str = ""
    """Why it is not taken (or its cost unknown), for people."""

    def as_meta(self) -> dict[str, Any]:
        """What the journal keeps (meta ``snapshot``) and the plan's JSON shows."""
        return {
            "setting": self.setting,
            "state": "taking" if self.take else "not_taken",
            "ways": dict(self.ways),
            "records": dict(self.records),
            "cost": self.cost,
            "requests": self.requests,
            "reason": self.reason or None,
        }


def decide(
    setting: str,
    keys: Mapping[str, int],
    records: Mapping[str, int | None],
    requests: int,
    *,
    single_get: bool,
) -> SnapshotPlan:
    """The snapshot of a run sending ``requests`` requests for ``keys`` per campaign, each
    campaign holding ``records`` (None or absent: not counted)."""
    if setting not in SETTINGS:
        raise ValueError(f"snapshot setting {setting!r}")
    wanted = {campaign: count for campaign, count in keys.items() if count}
    if setting == "off":
        return SnapshotPlan(setting, False, {}, {}, 0, requests, "snapshot = off")
    counted = {campaign: records.get(campaign) for campaign in wanted}
    ways = {c: cheaper_way(n, counted[c], single_get) for c, n in wanted.items()}
    costs = [campaign_cost(n, counted[c], single_get) for c, n in sorted(wanted.items())]
    cost = None if None in costs else sum(c for c in costs if c is not None)
    if setting == "always":
        reason = "" if cost is not None else "a campaign could not be counted"
        return SnapshotPlan(setting, True, ways, counted, cost, requests, reason)
    floor = least_cost(wanted, single_get) if cost is None else cost
    if not within_share(floor, requests):
        reason = _dear(cost, floor, requests)
        return SnapshotPlan(setting, False, ways, counted, cost, requests, reason)
    if cost is None:
        reason = "a campaign could not be counted"
        return SnapshotPlan(setting, False, ways, counted, None, requests, reason)
    return SnapshotPlan(setting, True, ways, counted, cost, requests)


def campaign_cost(keys: int, records: int | None, single_get: bool) -> int | None:
    """The GETs of one campaign's snapshot by the cheaper way; None when that needs the count."""
    if single_get and (records is None and not needs_count(keys, single_get)):
        return keys
    if records is None:
        return None
    pages = listing_pages(records)
    return min(keys, pages) if single_get else pages


def declined_early(
    setting: str, keys: Mapping[str, int], requests: int, *, single_get: bool
) -> SnapshotPlan | None:
    """The plan of a snapshot decided without counting any campaign: ``off``, or ``auto`` when
    even the cheapest snapshot (:func:`least_cost`) would cost too much; None when the campaigns
    must be counted."""
    if setting == "off":
        return decide(setting, keys, {}, requests, single_get=single_get)
    floor = least_cost(keys, single_get)
    if setting == "auto" and not within_share(floor, requests):
        return SnapshotPlan(setting, False, {}, {}, None, requests, _dear(None, floor, requests))
    return None


def _dear(cost: int | None, floor: int, requests: int) -> str:
    at_least = "at least " if cost is None else ""
    gets = "GET" if floor == 1 else "GETs"
    sent = "request" if requests == 1 else "requests"
    return f"{at_least}{floor} {gets} would add more than a quarter to the run's {requests} {sent}"
