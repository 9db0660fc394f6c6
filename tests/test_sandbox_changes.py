"""The sandbox's admin changes: records put back, statuses set, churn, and the detail view."""

from __future__ import annotations

import urllib.error
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from e2e import sandbox as sandbox_process
from e2e import write_records
from records_sandbox import AUTH, serve_records

from bulkremove.sandbox import Sandbox

pytestmark = pytest.mark.timeout(30)


def serve(tmp_path: Path) -> AbstractAsyncContextManager[tuple[Sandbox, aiohttp.ClientSession]]:
    """CRM range campaign 00001 (ids 1..20) and phone campaign 00007, and a client."""
    phone = [
        {"phone_number": "441", "additional_numbers": ["9"]},
        {"phone_number": "442", "call": "endless"},
    ]
    return serve_records(tmp_path, 20, {"00007": ("phone_number", phone)})


async def call(
    session: aiohttp.ClientSession, sandbox: Sandbox, path: str, body: object = None
) -> tuple[int, Any]:
    if path.startswith("/_sandbox"):
        url, headers = sandbox.url + path, {}
    else:
        url, headers = f"{sandbox.base_url}/{path}", AUTH
    method = "GET" if body is None else "POST"
    if path.startswith("batch/"):
        method = "DELETE"
    async with session.request(method, url, data=orjson.dumps(body), headers=headers) as answer:
        return answer.status, orjson.loads(await answer.read())


@pytest.mark.anyio
async def test_a_removed_customer_put_back_is_there_again_with_a_new_record_id(
    tmp_path: Path,
) -> None:
    async with serve(tmp_path) as (sandbox, session):
        gone = await call(session, sandbox, "batch/crm_outbounds/00001/records?customer_id[]=5")
        assert gone[1]["5"]["record_id"] == 5_000_005
        assert (await call(session, sandbox, "crm_outbounds/00001/records/5"))[0] == 404
        status, body = await call(
            session,
            sandbox,
            "/_sandbox/campaigns/00001/records",
            {"records": [{"customer_id": 5, "system_status": "NO_CALL"}]},
        )
        assert (status, body) == (200, {"record_ids": [5_000_021]})
        status, body = await call(session, sandbox, "crm_outbounds/00001/records/5")
        assert (status, body["record_id"], body["system_status"]) == (200, 5_000_021, "NO_CALL")
        listed = await call(session, sandbox, "crm_outbounds/00001/records?offset=18")
        assert [r["customer_id"] for r in listed[1]["result"]] == [20, 5], "last, as added"
        # Present again: a second put-back is refused whole, and the delete finds it.
        status, body = await call(
            session,
            sandbox,
            "/_sandbox/campaigns/00001/records",
            {"records": [{"customer_id": 6}, {"customer_id": 5}]},
        )
        assert status == 400 and "customer_id 6 is already" in body["errors"][0]["message"]
        assert sandbox.state.remaining() == {"00001": 20, "00007": 2}
        again = await call(session, sandbox, "batch/crm_outbounds/00001/records?customer_id[]=5")
        assert again[1]["5"] == {"http_status": 200, "record_id": 5_000_021, "status": "REMOVED"}


@pytest.mark.anyio
async def test_phone_records_put_back_and_the_detail_view(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        await call(session, sandbox, "batch/outbounds/00007/records?phone_number[]=441")
        status, body = await call(
            session,
            sandbox,
            "/_sandbox/campaigns/00007/records",
            {"records": [{"phone_number": "441", "record_id": 1}, {"phone_number": "443"}]},
        )
        assert (status, body) == (200, {"record_ids": [1, 3]})
        status, body = await call(session, sandbox, "/_sandbox/campaigns/00007/records?detail=1")
        assert body["remaining"] == 3
        assert [
            (r["record_id"], r["phone_number"], r["additional_numbers"], r["in_call"])
            for r in body["records"]
        ] == [(2, "442", [], True), (1, "441", [], False), (3, "443", [], False)]
        status, body = await call(session, sandbox, "/_sandbox/campaigns/00007/records")
        assert body == {"remaining": 3, "ids": [2, 1, 3], "phone_numbers": ["442", "441", "443"]}
        status, body = await call(session, sandbox, "/_sandbox/campaigns/00001/records?detail=1")
        assert body["records"][0] == {
            **body["records"][0],
            "record_id": 5_000_001,
            "customer_id": 1,
            "in_call": False,
        }
        assert "additional_numbers" not in body["records"][0]


@pytest.mark.anyio
async def test_statuses_set_now_and_bad_changes_change_nothing(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        path = "/_sandbox/campaigns/00001/statuses"
        body = {"records": {"5000003": "NO_CALL", "5000004": "CALL"}}
        assert await call(session, sandbox, path, body) == (200, {"changed": 2})
        for bad, problem in [
            ({"records": {"5000005": "NO_CALL", "5000099": "CALL"}}, "'5000099' is not in"),
            ({"records": {"5000005": "DONE"}}, "record 5000005: system status 'DONE'"),
            ({"records": []}, "body must be"),
        ]:
            status, answer = await call(session, sandbox, path, bad)
            assert status == 400 and problem in answer["errors"][0]["message"]
        listed = await call(session, sandbox, "crm_outbounds/00001/records?system_status[]=CALL")
        assert [r["customer_id"] for r in listed[1]["result"]] == [4]
        path = "/_sandbox/campaigns/00007/statuses"
        assert await call(session, sandbox, path, {"records": {"2": "NO_CALL"}}) == (
            200,
            {"changed": 1},
        )
        status, body = await call(session, sandbox, "/_sandbox/campaigns/00009/statuses", {})
        assert status == 404


@pytest.mark.anyio
async def test_churn_flips_before_each_listing_until_told_to_stop(tmp_path: Path) -> None:
    async with serve(tmp_path) as (sandbox, session):
        path = "/_sandbox/campaigns/00001/churn"
        body = {"statuses": ["NO_CALL", "TO_CALL"], "per_request": 3, "requests": 2, "seed": 7}
        assert await call(session, sandbox, path, body) == (200, {"flipped": 0})
        counts = []
        for _ in range(3):
            query = "system_status[]=NO_CALL"
            counts.append(
                (await call(session, sandbox, f"crm_outbounds/00001/records?{query}"))[1]["count"]
            )
        assert await call(session, sandbox, path) == (200, {"flipped": 6})
        assert counts[1] == counts[2] and 0 < counts[1] <= 6
        body = {"statuses": ["NO_CALL", "TO_CALL"], "per_request": 1, "requests": None}
        assert await call(session, sandbox, path, body) == (200, {"flipped": 0})
        await call(session, sandbox, "crm_outbounds/00001/records")
        assert await call(session, sandbox, path, {"requests": 0}) == (200, {"flipped": 1})
        await call(session, sandbox, "crm_outbounds/00001/records")
        assert await call(session, sandbox, path) == (200, {"flipped": 1})
        for bad in [
            {"statuses": ["NO_CALL"], "per_request": 1},
            {"statuses": ["NO_CALL", "X"], "per_request": 1},
            {"statuses": ["NO_CALL", "CALL"], "per_request": -1},
        ]:
            assert (await call(session, sandbox, path, bad))[0] == 400
        assert sandbox.stats.snapshot({})["requests"] == 5, "admin calls are not counted"


def test_the_helpers_of_the_end_to_end_tests(tmp_path: Path) -> None:
    path = write_records(tmp_path / "r.json", "00007", "phone_number", [{"phone_number": "1"}])
    with sandbox_process("--records", str(path), "--campaign", "00001=1-3") as server:
        assert server.put_back("00007", [{"phone_number": "1"}]) == [2]
        assert [r["phone_number"] for r in server.records("00007")] == ["1", "1"]
        assert [r["customer_id"] for r in server.records()] == [1, 2, 3]
        with pytest.raises(urllib.error.HTTPError):
            server.put_back("00001", [{"customer_id": 1}])
