"""The snapshot's cost, its way per campaign and the ``auto`` rule: pure code, no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.listing.pages import PAGE_SIZE
from bulkremove.listing.passes import OVERLAP
from bulkremove.plan import snapshot_line
from bulkremove.snapshot.cost import (
    campaign_cost,
    cheaper_way,
    decide,
    declined_early,
    listing_pages,
)

CAMPAIGNS = st.dictionaries(
    st.sampled_from(["00001", "00002", "00003"]), st.integers(0, 5000), min_size=1
)


def _pages_a_listing_reads(records: int) -> int:
    """The pages the Lister asks for a campaign of ``records``: the loop of Lister.pages."""
    offset, pages = 0, 0
    while True:
        pages += 1
        if offset + PAGE_SIZE >= records:
            return pages
        offset += PAGE_SIZE - OVERLAP


@given(st.integers(0, 100_000))
def test_the_listing_cost_is_the_pages_the_lister_reads(records: int) -> None:
    assert listing_pages(records) == _pages_a_listing_reads(records)


@pytest.mark.parametrize(
    ("keys", "records", "single_get", "way", "cost"),
    [
        (5, 1000, True, "record", 5),  # 5 GETs against 11 pages
        (11, 1000, True, "record", 11),  # a tie goes to single GETs
        (12, 1000, True, "listing", 11),
        (5, 1000, False, "listing", 11),  # phone campaigns have no single GET
        (1, None, True, "record", 1),  # one key needs no count
        (2, None, True, "record", None),  # more do
    ],
)
def test_the_cheaper_way_and_its_cost(
    keys: int, records: int | None, single_get: bool, way: str, cost: int | None
) -> None:
    assert cheaper_way(keys, records, single_get) == way
    assert campaign_cost(keys, records, single_get) == cost


@given(CAMPAIGNS, st.integers(0, 100_000), st.integers(1, 2000), st.booleans())
def test_auto_takes_a_snapshot_exactly_when_it_adds_at_most_a_quarter(
    keys: dict[str, int], size: int, requests: int, single_get: bool
) -> None:
    records: dict[str, int | None] = dict.fromkeys(keys, size)
    auto = decide("auto", keys, records, requests, single_get=single_get)
    always = decide("always", keys, records, requests, single_get=single_get)
    wanted = {c: n for c, n in keys.items() if n}
    expected = sum(
        min(n, listing_pages(size)) if single_get else listing_pages(size) for n in wanted.values()
    )
    assert always.take and always.cost == auto.cost == expected
    assert auto.take == (4 * expected <= requests)
    assert set(auto.ways) == set(wanted)
    assert auto.take or "more than a quarter" in auto.reason
    off = decide("off", keys, records, requests, single_get=single_get)
    assert not off.take and off.as_meta()["state"] == "not_taken"


@given(CAMPAIGNS, st.integers(0, 100_000), st.integers(1, 2000), st.booleans())
def test_declining_without_a_count_is_what_any_count_holding_the_keys_would_give(
    keys: dict[str, int], extra: int, requests: int, single_get: bool
) -> None:
    early = declined_early("auto", keys, requests, single_get=single_get)
    # a campaign holds at least the keys the run removes from it
    records: dict[str, int | None] = {c: n + extra for c, n in keys.items()}
    auto = decide("auto", keys, records, requests, single_get=single_get)
    if early is not None:
        assert not auto.take and not early.take and "at least" in early.reason
    elif any(keys.values()):  # a snapshot as cheap as the keys allow fits in a quarter
        fitting: dict[str, int | None] = dict(keys)
        assert decide("auto", keys, fitting, requests, single_get=single_get).take
    assert declined_early("always", keys, requests, single_get=single_get) is None


def test_a_campaign_not_counted_leaves_the_cost_unknown() -> None:
    plan = decide("always", {"00001": 40}, {}, 10, single_get=True)
    assert plan.take and plan.cost is None
    auto = decide("auto", {"00001": 40}, {"00001": None}, 10, single_get=True)
    assert not auto.take and "could not be counted" in auto.reason


def test_the_plan_line_says_how_and_what_it_costs() -> None:
    taking = decide("always", {"00001": 40}, {"00001": 1000}, 1, single_get=False).as_meta()
    assert snapshot_line(taking) == (
        "snapshot: 11 GETs before the first DELETE, listing campaign 00001 (1000 records)"
    )
    declined = decide("auto", {"00001": 40}, {"00001": 1000}, 2, single_get=True).as_meta()
    early = declined_early("auto", {"00001": 900}, 2, single_get=True)
    assert early is not None and snapshot_line(early.as_meta()) == (
        "snapshot: none taken: at least 10 GETs would add more than a quarter to the run's 2 "
        "requests; --snapshot always takes it"
    )
    assert snapshot_line(declined) == (
        "snapshot: none taken: 11 GETs would add more than a quarter to the run's 2 requests; "
        "--snapshot always takes it"
    )
    taken = {**taking, "state": "taken", "found": 39, "missing": 1}
    assert snapshot_line(taken).endswith(": 39 records kept, 1 key not found")
