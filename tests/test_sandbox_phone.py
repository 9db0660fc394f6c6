"""Detailed records from JSON, and the phone-number batch delete of the sandbox."""

from __future__ import annotations

import re
import subprocess
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from e2e import sandbox as sandbox_process
from e2e import write_records
from hypothesis import given
from hypothesis import strategies as st
from records_sandbox import AUTH, serve_records
from yarl import URL

from bulkremove.sandbox import Sandbox
from bulkremove.sandbox.config import HOSTILE_MODES
from bulkremove.sandbox.detailed import Record, Rows
from bulkremove.sandbox.phone import phone_query
from bulkremove.sandbox.recordfile import parse_records, read_records_file
from bulkremove.sandbox.responses import ValidationError

pytestmark = pytest.mark.timeout(30)

NOT_EXIST = [{"http_status": 404, "status": "NOT_EXIST"}]

PHONE_RECORDS = [
    {"phone_number": "0048500100200", "additional_numbers": ["600700800"]},  # record 1
    {"phone_number": "48500100200"},  # 2: leading zeros make another number
    {"phone_number": "441", "call": 0.3},  # 3: in a short call
    {"phone_number": "441"},  # 4
    {"phone_number": "441", "call": "endless"},  # 5
    {"phone_number": "600700800", "record_id": 10},  # 10
    {"phone_number": "777"},  # 6
]


def removed(rid: int) -> dict[str, object]:
    return {"http_status": 200, "record_id": rid, "status": "REMOVED"}


def in_call(rid: int) -> dict[str, object]:
    return {"http_status": 409, "record_id": rid, "status": "CALL_IN_PROGRESS"}


def serve(
    tmp_path: Path, records: list[dict[str, Any]] = PHONE_RECORDS, **options: Any
) -> AbstractAsyncContextManager[tuple[Sandbox, aiohttp.ClientSession]]:
    """A sandbox with phone campaign 00007 and CRM campaign 00001 (ids 1..100), and a client."""
    return serve_records(tmp_path, 100, {"00007": ("phone_number", records)}, **options)


async def phone_delete(
    session: aiohttp.ClientSession, sandbox: Sandbox, query: str, campaign: str = "00007"
) -> tuple[int, Any]:
    url = URL(f"{sandbox.base_url}/batch/outbounds/{campaign}/records/?{query}", encoded=True)
    async with session.delete(url, headers=AUTH) as response:
        return response.status, orjson.loads(await response.read())


# --- records from JSON -----------------------------------------------------------------------


def test_record_ids_count_up_skipping_given_ones_and_defaults_fill_in() -> None:
    items = [{"customer_id": 5}, {"customer_id": 6, "record_id": 2}, {"customer_id": 7}]
    records = parse_records(items, "customer_id", now=0.0)
    assert [(r.record_id, r.key) for r in records] == [(1, 5), (2, 6), (3, 7)]
    first = records[0]
    assert (first.system_status, first.status_id, first.create_date) == (
        "TO_CALL",
        "1",
        "2025-01-01 00:00:00",
    )
    assert (first.call_date, first.agent_login, first.order, first.call_end) == (
        None,
        None,
        0,
        None,
    )


def test_dates_are_written_out_and_calls_count_from_now() -> None:
    items = [
        {"phone_number": "1", "create_date": "2025-03-01", "call_date": "2025-03-02 10:30"},
        {"phone_number": "1", "call": 5, "status_id": 3},
    ]
    first, second = parse_records(items, "phone_number", now=100.0)
    assert first.create_date == "2025-03-01 00:00:00"
    assert first.call_date == "2025-03-02 10:30:00"
    assert (second.call_end, second.status_id) == (105.0, "3")


@pytest.mark.parametrize(
    ("items", "target", "problem"),
    [
        ("x", "phone_number", "records must be a JSON list"),
        ([1], "phone_number", "record 1: must be a JSON object"),
        ([{}], "phone_number", "record 1: phone_number is required"),
        ([{"phone_number": "+48500"}], "phone_number", "record 1: phone_number '+48500'"),
        ([{"phone_number": "1 2"}], "phone_number", "is not a phone number"),
        ([{"phone_number": ""}], "phone_number", "is not a phone number"),
        ([{"phone_number": 441}], "phone_number", "is not a phone number"),
        ([{"phone_number": "1", "additional_numbers": ["x"]}], "phone_number", "additional"),
        ([{"customer_id": 0}], "customer_id", "customer_id 0 must be an integer"),
        ([{"customer_id": 1}, {"customer_id": 1}], "customer_id", "record 2: customer_id 1 is"),
        ([{"customer_id": 1, "phone_number": "1"}], "customer_id", "'phone_number' is not a f"),
        ([{"customer_id": 1, "system_status": "DONE"}], "customer_id", "system_status 'DONE'"),
        ([{"customer_id": 1, "status_id": "a"}], "customer_id", "status_id 'a'"),
        ([{"customer_id": 1, "create_date": "2025-02-30"}], "customer_id", "create_date"),
        ([{"customer_id": 1, "create_date": None}], "customer_id", "create_date must not be"),
        ([{"customer_id": 1, "call_date": "01.02.2025"}], "customer_id", "call_date"),
        ([{"customer_id": 1, "call": -1}], "customer_id", "call -1 must be"),
        ([{"customer_id": 1, "call": "forever"}], "customer_id", "call 'forever'"),
        ([{"customer_id": 1, "order": "1"}], "customer_id", "order '1'"),
        (
            [{"customer_id": 1, "record_id": 3}, {"customer_id": 2, "record_id": 3}],
            "customer_id",
            "record 2: record_id 3 is used twice",
        ),
    ],
)
def test_bad_records_are_refused_saying_which_and_what(
    items: object, target: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_records(items, target, now=0.0)


def test_listing_only_keys_are_ignored_so_a_listed_record_can_be_posted_back() -> None:
    listed = {"customer_id": 4, "status": "Status 1", "agent_name": None, "last_note": None}
    (record,) = parse_records([listed], "customer_id", now=0.0)
    assert record.key == 4


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (b"{", "not JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"campaign": "7", "target": "customer_id", "records": []}', "campaign id '7'"),
        (b'{"campaign": "00007", "target": "email", "records": []}', "target 'email'"),
        (b'{"campaign": "00007", "target": "customer_id", "records": [], "x": 1}', "key 'x'"),
    ],
)
def test_a_bad_file_is_refused_naming_it(tmp_path: Path, document: bytes, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(document)
    with pytest.raises(ValueError, match=re.escape(problem)) as caught:
        read_records_file(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_the_command_line_refuses_a_bad_file_before_listening(tmp_path: Path) -> None:
    path = write_records(tmp_path / "r.json", "00007", "phone_number", [{"phone_number": "+1"}])
    done = subprocess.run(
        [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0", "--records", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert f"{path}: record 1: phone_number '+1'" in done.stderr


# --- rows --------------------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.lists(st.sampled_from("abc"), max_size=2)),
        max_size=12,
    ),
    st.sets(st.integers(0, 11)),
)
def test_rows_find_by_number_in_order_of_addition(
    shape: list[tuple[str, list[str]]], gone: set[int]
) -> None:
    # Record ids run backwards: order of addition, not of ids, is what counts.
    records = [
        Record(100 - n, main, additional_numbers=tuple(extra))
        for n, (main, extra) in enumerate(shape)
    ]
    rows = Rows(records)
    for n in sorted(gone):
        if n < len(records):
            rows.remove(records[n].record_id)
    kept = [r for n, r in enumerate(records) if n not in gone]
    for number in "abcd":
        assert rows.with_number(number, False) == [r for r in kept if r.key == number]
        assert rows.with_number(number, True) == [
            r for r in kept if r.key == number or number in r.additional_numbers
        ]


# --- the query -------------------------------------------------------------------------------


def test_phone_query_takes_both_spellings_and_the_flag() -> None:
    query = "phone_number[]=0048&phone_number%5B%5D=441&phone_number%5b%5d=%34%34%32&x=1"
    assert phone_query(query) == (["0048", "441", "442"], False)
    assert phone_query("phone_number[]=1&search_in_additional_numbers=true") == (["1"], True)
    assert phone_query("search_in_additional_numbers=false&phone_number[]=1") == (["1"], False)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", "phone_number[] is required"),
        ("x=1", "phone_number[] is required"),
        ("phone_number[]=", "'' is not a phone number"),
        ("phone_number[]=+48500", "' 48500' is not a phone number"),
        ("phone_number[]=%2B48500", "'+48500' is not a phone number"),
        ("phone_number[]=500%20100", "'500 100' is not a phone number"),
        ("phone_number[]=12a", "'12a' is not a phone number"),
        ("phone_number[]=%EF%BC%91", "is not a phone number"),  # a fullwidth digit
        ("phone_number[]=1&search_in_additional_numbers=1", "must be true or false"),
        ("phone_number[]=1&search_in_additional_numbers=TRUE", "must be true or false"),
    ],
)
def test_phone_query_refuses_anything_but_digits(query: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        phone_query(query)


# --- the endpoint ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_each_number_answers_a_list_of_its_records(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        query = (
            "phone_number[]=441&phone_number[]=0048500100200&phone_number[]=999&phone_number[]=441"
        )
        status, body = await phone_delete(session, sandbox, query)
        assert status == 200
        assert list(body.items()) == [
            ("441", [in_call(3), removed(4), in_call(5)]),
            ("0048500100200", [removed(1)]),
            ("999", NOT_EXIST),
        ]
        assert sandbox.state.remaining()["00007"] == 7 - 2
        stats = sandbox.stats.snapshot({})
        assert stats["phone_deletes"] == 1
        assert stats["ids_requested"] == 4
        assert stats["by_outcome"] == {"REMOVED": 2, "NOT_EXIST": 1, "CALL_IN_PROGRESS": 2}


@pytest.mark.anyio
async def test_additional_numbers_only_when_asked(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        assert await phone_delete(session, sandbox, "phone_number[]=600700800") == (
            200,
            {"600700800": [removed(10)]},
        )
        # Record 1 carries it as an additional number; record 10 is gone.
        query = "phone_number%5B%5D=600700800&search_in_additional_numbers=true"
        assert await phone_delete(session, sandbox, query) == (200, {"600700800": [removed(1)]})
        assert await phone_delete(session, sandbox, query) == (200, {"600700800": NOT_EXIST})


@pytest.mark.anyio
async def test_calls_end_and_endless_ones_do_not(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        assert sandbox.state.campaigns["00007"].rows.by_id[3].call_end is not None
        sandbox.state.campaigns["00007"].rows.by_id[3].call_end = 0.0  # the call is over
        assert await phone_delete(session, sandbox, "phone_number[]=441") == (
            200,
            {"441": [removed(3), removed(4), in_call(5)]},
        )


@pytest.mark.anyio
async def test_admin_calls_take_record_ids_in_a_phone_campaign(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        assert sandbox.put_in_call("00007", [6], None) == 1
        assert await phone_delete(session, sandbox, "phone_number[]=777") == (
            200,
            {"777": [in_call(6)]},
        )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "query", ["phone_number[]=1&phone_number[]=%2B1", "phone_number[]=441&phone_number[]=4 41"]
)
async def test_one_bad_number_refuses_the_whole_request(tmp_path: Path, query: str) -> None:
    async with serve(tmp_path) as (sandbox, session):
        status, body = await phone_delete(session, sandbox, query.replace(" ", "+"))
        assert status == 400
        assert "is not a phone number" in body["errors"][0]["message"]
        assert sandbox.state.remaining()["00007"] == 7


@pytest.mark.anyio
async def test_the_wrong_kind_of_campaign_is_not_found(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        status, body = await phone_delete(session, sandbox, "phone_number[]=1", campaign="00001")
        assert status == 404 and "campaign" in body["errors"][0]["message"]
        url = URL(
            f"{sandbox.base_url}/batch/crm_outbounds/00007/records?customer_id[]=1", encoded=True
        )
        async with session.delete(url, headers=AUTH) as response:
            assert response.status == 404
        url = URL(f"{sandbox.base_url}/batch/outbounds/00007/records?phone_number[]=777")
        async with session.get(url, headers=AUTH) as response:
            assert response.status == 405


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["truncated", "empty", "server_error", "lie", "not_found_404"])
async def test_hostile_modes_break_phone_answers(tmp_path: Path, mode: str) -> None:
    async with serve(tmp_path, hostile=mode) as (sandbox, session):
        url = URL(
            f"{sandbox.base_url}/batch/outbounds/00007/records?phone_number[]=777&phone_number[]=0",
            encoded=True,
        )
        async with session.delete(url, headers=AUTH) as response:
            body = await response.read()
            status = response.status
        if mode == "truncated":
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(body)
        elif mode == "empty":
            assert orjson.loads(body) == {}
        elif mode == "server_error":
            assert status == 500
        elif mode == "lie":
            assert orjson.loads(body) == {"777": [removed(6)], " 0": [removed(1)]}
        else:
            assert (status, orjson.loads(body)) == (404, {"777": NOT_EXIST, "0": NOT_EXIST})
        left = 7 if mode == "not_found_404" else 6
        assert sandbox.state.remaining()["00007"] == left


def test_a_records_campaign_served_by_the_command_line(tmp_path: Path) -> None:
    path = write_records(tmp_path / "r.json", "00009", "customer_id", [{"customer_id": 42}])
    with sandbox_process("--records", str(path)) as server:
        assert server.stats()["remaining"] == {"00009": 1}, "no default campaign beside it"
        assert server.remaining("00009") == {42}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", sorted(set(HOSTILE_MODES) - {"huge"}))
async def test_every_hostile_mode_answers_phone_deletes(tmp_path: Path, mode: str) -> None:
    async with serve(tmp_path, hostile=mode) as (sandbox, session):
        url = URL(
            f"{sandbox.base_url}/batch/outbounds/00007/records?phone_number[]=441", encoded=True
        )
        async with session.delete(url, headers=AUTH) as response:
            await response.read()
            assert response.status != 500 or mode == "server_error"
        assert sandbox.state.remaining()["00007"] == (7 if mode == "not_found_404" else 6)


@pytest.mark.anyio
async def test_faults_and_limits_apply_to_phone_deletes(tmp_path: Path) -> None:
    async with serve(tmp_path, error_share=1.0, seed=1) as (sandbox, session):
        status, _ = await phone_delete(session, sandbox, "phone_number[]=777")
        assert status in (500, 502, 503)
        sandbox.reconfigure(error_share=0.0, max_target_length=60)
        status, _ = await phone_delete(session, sandbox, "phone_number[]=777" * 3)
        assert status == 414
        assert sandbox.state.remaining()["00007"] == 7
        url = URL(
            f"{sandbox.base_url}/batch/outbounds/00007/records?phone_number[]=7", encoded=True
        )
        sandbox.reconfigure(max_target_length=None)
        async with session.delete(url, headers=AUTH) as response:
            assert response.status == 200, "the slash before ? may be left out"
