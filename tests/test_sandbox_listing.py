"""The sandbox's listing, single-record GET and statuses: paging and filters, then over HTTP."""

from __future__ import annotations

import re
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from records_sandbox import AUTH, serve_records

from bulkremove.sandbox import Sandbox
from bulkremove.sandbox.churn import Churn
from bulkremove.sandbox.detailed import Record, base_record
from bulkremove.sandbox.filters import Filters, ListingQuery, check_date, listing_query
from bulkremove.sandbox.listing import page
from bulkremove.sandbox.records import RangeRecords, SetRecords
from bulkremove.sandbox.responses import ValidationError
from bulkremove.sandbox.state import Campaign
from bulkremove.settings.where import SYSTEM_STATUSES

pytestmark = pytest.mark.timeout(30)


# --- the query ---------------------------------------------------------------------------------


def test_query_defaults_and_both_spellings_of_repeated_keys() -> None:
    assert listing_query("") == ListingQuery(Filters(), 0, 100)
    asked = listing_query(
        "limit=5&offset=10&system_status[]=NO_CALL&system_status%5B%5D=CALL&status_id[]=3"
        "&create_date_to=2025-12-31&call_date_from=2025-01-01&order=next_call_date&system_status=X"
    )
    assert asked == ListingQuery(
        Filters(
            system_status=frozenset({"NO_CALL", "CALL"}),
            status_id=frozenset({"3"}),
            create_date_to="2025-12-31",
            call_date_from="2025-01-01",
        ),
        offset=10,
        limit=5,
    )


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("limit=0", "limit 0 must be 1..100"),
        ("limit=101", "limit 101 must be 1..100"),
        ("limit=-1", "limit '-1' must be a whole number"),
        ("limit=", "limit '' must be a whole number"),
        ("offset=x", "offset 'x' must be a whole number"),
        ("system_status[]=DONE", "system_status[] 'DONE' must be one of"),
        ("system_status[]=", "system_status[] '' must be one of"),
        ("create_date_from=2025-02-30", "create_date_from '2025-02-30' is not a date"),
        ("call_date_to=20250101", "call_date_to '20250101' is not a date"),
        ("create_date_to=2025-01-01T00:00", "is not a date"),
    ],
)
def test_bad_queries_say_what(query: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        listing_query(query)


def test_check_date_takes_only_real_dates() -> None:
    assert check_date("2024-02-29", "d") == "2024-02-29"
    with pytest.raises(ValidationError, match="2023-02-29"):
        check_date("2023-02-29", "d")


def test_filters_compare_the_date_part_inclusively_and_null_call_dates_never_match() -> None:
    record = Record(1, 1, "NO_CALL", "3", "2025-03-01 23:59:59", call_date="2025-04-02 00:00:00")
    assert Filters(create_date_from="2025-03-01", create_date_to="2025-03-01").matches(record)
    assert not Filters(create_date_to="2025-02-28").matches(record)
    assert Filters(call_date_from="2025-04-02", call_date_to="2025-04-02").matches(record)
    assert not Filters(call_date_from="2025-04-03").matches(record)
    assert Filters(frozenset({"CALL", "NO_CALL"}), frozenset({"3"})).matches(record)
    assert not Filters(frozenset({"CALL"})).matches(record)
    assert not Filters(status_id=frozenset({"1"})).matches(record)
    never_called = Record(2, 2, create_date="2025-03-01 00:00:00")
    assert not Filters(call_date_to="2099-01-01").matches(never_called)
    assert Filters(create_date_to="2099-01-01").matches(never_called)


# --- paging ------------------------------------------------------------------------------------


def _reference(campaign: Campaign, filters: Filters) -> list[Record]:
    """Every record in order, made one by one: what page() must agree with."""
    seeded = [base_record(cid, campaign.overrides.get(cid, "TO_CALL")) for cid in campaign.records]
    return [r for r in [*seeded, *campaign.rows.by_id.values()] if filters.matches(r)]


statuses = st.sampled_from(SYSTEM_STATUSES[:3])


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(0, 300),
    ids=st.booleans(),
    changed=st.dictionaries(st.integers(1, 300), statuses, max_size=40),
    gone=st.sets(st.integers(1, 300), max_size=60),
    added=st.lists(st.tuples(statuses, st.sampled_from(["2024-12-31", "2025-06-01"])), max_size=8),
    wanted=st.sets(statuses, max_size=2),
    created_to=st.sampled_from([None, "2025-01-01", "2025-05-31"]),
    offset=st.integers(0, 320),
    limit=st.integers(1, 100),
)
def test_pages_agree_with_listing_every_record(
    size: int,
    ids: bool,
    changed: dict[int, str],
    gone: set[int],
    added: list[tuple[str, str]],
    wanted: set[str],
    created_to: str | None,
    offset: int,
    limit: int,
) -> None:
    base = SetRecords(set(range(1, size + 1))) if ids else RangeRecords(1, max(size, 1))
    if not ids and size == 0:
        base.discard(1)
    campaign = Campaign("00001", base, None)
    for cid, status in changed.items():
        if cid in base:
            campaign.set_status(cid + 5_000_000, status)
    for cid in gone:
        base.discard(cid)
    campaign.add(
        Record(campaign.next_record_id + n, 1000 + n, status, create_date=created + " 10:00:00")
        for n, (status, created) in enumerate(added)
    )
    filters = Filters(frozenset(wanted), create_date_to=created_to)
    expected = _reference(campaign, filters)
    count, found = page(campaign, filters, offset, limit)
    assert count == len(expected)
    assert found == expected[offset : offset + limit]


@given(st.integers(1, 40_000), st.sets(st.integers(0, 39_999), max_size=50))
@settings(max_examples=60, deadline=None)
def test_range_select_and_iter_from_agree_with_a_sorted_list(size: int, gone: set[int]) -> None:
    records = RangeRecords(10, 10 + size - 1)
    for offset in gone:
        records.discard(10 + offset)
    present = [10 + i for i in range(size) if i not in gone]
    for k in {0, len(present) // 2, len(present) - 1} - {-1}:
        if present:
            assert records.select(k) == present[k]
            assert list(records.iter_from(present[k]))[:5] == present[k : k + 5]
    with pytest.raises(IndexError):
        records.select(len(present))


def test_churn_is_seeded_and_stops_after_its_requests() -> None:
    def flips(seed: int) -> dict[int, str]:
        campaign = Campaign("00001", RangeRecords(1, 5000), None)
        churn = Churn(("NO_CALL", "TO_CALL"), 3, 4, seed)
        for _ in range(6):
            churn.before_listing(campaign)
        assert churn.flipped == 12
        return dict(campaign.overrides)

    assert flips(7) == flips(7)
    assert flips(7) != flips(8)
    assert 0 < len(flips(7)) <= 12
    assert set(flips(7).values()) == {"NO_CALL"}


def test_churn_flips_both_ways_among_its_two_statuses_only() -> None:
    campaign = Campaign("00001", SetRecords(set()), None)
    campaign.add(Record(n, n, status) for n, status in enumerate(["CALL", "NO_CALL", "TO_CALL"], 1))
    churn = Churn(("NO_CALL", "TO_CALL"), 2, None, 1)
    churn.before_listing(campaign)
    assert campaign.rows.by_id[1].system_status == "CALL"
    assert [campaign.rows.by_id[n].system_status for n in (2, 3)] == ["TO_CALL", "NO_CALL"]
    with pytest.raises(ValueError, match="two different"):
        Churn(("NO_CALL", "NO_CALL"), 1, None, 1)


# --- over HTTP ---------------------------------------------------------------------------------


def serve(tmp_path: Path) -> AbstractAsyncContextManager[tuple[Sandbox, aiohttp.ClientSession]]:
    """CRM range campaign 00001 (ids 1..250), phone campaign 00007, CRM records campaign 00008."""
    phone = [
        {"phone_number": "441", "system_status": "NO_CALL", "create_date": "2025-03-01"},
        {"phone_number": "442", "status_id": "2", "call_date": "2025-04-01 12:00:00"},
        {"phone_number": "441", "identifier": "A-1", "record_fields": {"city": "Kraków"}},
    ]
    campaigns = {"00007": ("phone_number", phone), "00008": ("customer_id", [{"customer_id": 9}])}
    return serve_records(tmp_path, 250, campaigns)


async def get(
    session: aiohttp.ClientSession, sandbox: Sandbox, path: str, auth: bool = True
) -> tuple[int, Any]:
    async with session.get(f"{sandbox.base_url}/{path}", headers=AUTH if auth else {}) as answer:
        return answer.status, orjson.loads(await answer.read())


@pytest.mark.anyio
async def test_a_range_campaign_pages_by_offset(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        status, body = await get(session, sandbox, "crm_outbounds/00001/records?offset=240")
        assert status == 200
        assert body["count"] == 250
        assert [r["customer_id"] for r in body["result"]] == list(range(241, 251))
        assert body["result"][0] == {
            "record_id": 5_000_241,
            "customer_id": 241,
            "system_status": "TO_CALL",
            "status_id": "1",
            "status": "Status 1",
            "create_date": "2025-01-01 00:00:00",
            "call_date": None,
            "next_call_date": None,
            "agent_name": None,
            "agent_login": None,
            "last_note": None,
            "order": 0,
        }
        status, body = await get(session, sandbox, "crm_outbounds/00001/records/")
        assert (status, len(body["result"])) == (200, 100)
        sandbox.state.campaigns["00001"].set_status(5_000_007, "NO_CALL")
        query = "system_status%5B%5D=NO_CALL&limit=1"
        assert (await get(session, sandbox, f"crm_outbounds/00001/records?{query}"))[1] == {
            "count": 1,
            "result": [{**body["result"][6], "system_status": "NO_CALL"}],
        }
        assert sandbox.stats.snapshot({})["gets"] == 3


@pytest.mark.anyio
async def test_a_phone_campaign_lists_with_filters(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        status, body = await get(session, sandbox, "outbounds/00007/records")
        assert status == 200 and body["count"] == 3
        assert [(r["record_id"], r["phone_number"]) for r in body["result"]] == [
            (1, "441"),
            (2, "442"),
            (3, "441"),
        ]
        assert body["result"][2]["identifier"] == "A-1"
        assert body["result"][2]["record_fields"] == {"city": "Kraków"}
        assert "additional_numbers" not in body["result"][0] and "call" not in body["result"][0]
        for query, ids in [
            ("system_status[]=NO_CALL&system_status[]=TO_CALL", [1, 2, 3]),
            ("system_status[]=TO_CALL&create_date_from=2025-02-01", []),
            ("create_date_from=2025-02-01", [1]),
            ("call_date_to=2025-04-01", [2]),
            ("status_id[]=2&status_id[]=5", [2]),
        ]:
            status, body = await get(session, sandbox, f"outbounds/00007/records?{query}")
            assert [r["record_id"] for r in body["result"]] == ids, query
            assert body["count"] == len(ids)


@pytest.mark.anyio
async def test_one_customer_and_the_statuses(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        status, body = await get(session, sandbox, "crm_outbounds/00001/records/17")
        assert (status, body["record_id"], body["customer_id"]) == (200, 5_000_017, 17)
        status, body = await get(session, sandbox, "crm_outbounds/00008/records/9")
        assert (status, body["record_id"]) == (200, 1)
        for missing in ("crm_outbounds/00001/records/251", "crm_outbounds/00008/records/1"):
            status, body = await get(session, sandbox, missing)
            assert status == 404 and "is not in campaign" in body["errors"][0]["message"]
        assert (await get(session, sandbox, "outbounds/00007/statuses"))[1] == [
            {
                "system_status": "NO_CALL",
                "status_id": "1",
                "dictionary_status_id": 1,
                "name": "Status 1",
            },
            {
                "system_status": "TO_CALL",
                "status_id": "2",
                "dictionary_status_id": 2,
                "name": "Status 2",
            },
        ]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("outbounds/00001/records", 404),  # a CRM campaign on the phone path
        ("crm_outbounds/00007/records", 404),
        ("crm_outbounds/00007/records/1", 404),
        ("crm_outbounds/00009/records", 404),
        ("crm_outbounds/00001/records?limit=500", 400),
        ("crm_outbounds/00001/records?create_date_to=31.12.2025", 400),
        ("crm_outbounds/00001/records/abc", 400),
        ("outbounds/00001/nothing", 404),
    ],
)
async def test_refusals(tmp_path: Path, path: str, status: int) -> None:
    async with serve(tmp_path) as (sandbox, session):
        got, body = await get(session, sandbox, path)
        assert got == status
        assert set(body) == {"request_id", "errors"}
        assert (await get(session, sandbox, path, auth=False))[0] == 401
        async with session.delete(f"{sandbox.base_url}/outbounds/00007/records", headers=AUTH) as a:
            assert a.status == 405
