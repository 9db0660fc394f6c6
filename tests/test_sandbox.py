"""The sandbox server, over real HTTP on loopback with aiohttp's client."""

from __future__ import annotations

import asyncio
import math
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from bulkremove.sandbox import (
    DEFAULT_MAX_TARGET_LENGTH,
    IdsSeed,
    Outcome,
    RangeSeed,
    Sandbox,
    SandboxConfig,
    parse_campaign_spec,
)
from bulkremove.sandbox.bucket import TokenBucket
from bulkremove.sandbox.crm import customer_ids
from bulkremove.sandbox.records import RangeRecords
from bulkremove.sandbox.responses import ValidationError

pytestmark = pytest.mark.timeout(30)

AUTH = {"Authorization": aiohttp.encode_basic_auth("api_user", "api_pass")}
KEY = "customer_id%5B%5D"
REQUEST_ID = re.compile(r"[0-9a-f]{13}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def serve(
    *, clock: Callable[[], float] = time.monotonic, **options: Any
) -> AsyncIterator[tuple[Sandbox, aiohttp.ClientSession]]:
    """A sandbox on a free port (campaign 00001 = ids 1..1000 unless told) and a client."""
    options.setdefault("campaigns", (RangeSeed("00001", 1, 1000),))
    async with (
        Sandbox(SandboxConfig(port=0, **options), clock=clock) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        yield sandbox, session


def target(
    sandbox: Sandbox, ids: Iterable[int | str], campaign: str = "00001", key: str = KEY
) -> URL:
    """The URL of a batch delete, sent exactly as written (no re-quoting)."""
    query = "&".join(f"{key}={i}" for i in ids)
    return URL(f"{sandbox.base_url}/batch/crm_outbounds/{campaign}/records?{query}", encoded=True)


async def delete(
    session: aiohttp.ClientSession, url: URL, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with session.delete(url, headers=AUTH if headers is None else headers) as response:
        body = await response.read()
        if response.content_type == "application/json":
            return response.status, orjson.loads(body)
        return response.status, body.decode()


async def admin(
    session: aiohttp.ClientSession, sandbox: Sandbox, path: str, body: object = None
) -> tuple[int, Any]:
    url = f"{sandbox.url}/_sandbox/{path}"
    method = "GET" if body is None else "POST"
    async with session.request(method, url, data=orjson.dumps(body)) as response:
        return response.status, orjson.loads(await response.read())


def assert_error_body(body: Any) -> None:
    """The API's documented error format."""
    assert set(body) == {"request_id", "errors"}
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["code"], int)


def removed(cid: int) -> dict[str, object]:
    return {"http_status": 200, "record_id": cid + 5_000_000, "status": "REMOVED"}


NOT_EXIST = {"http_status": 404, "status": "NOT_EXIST"}
IN_CALL = {"http_status": 409, "status": "CALL_IN_PROGRESS"}


# --- the endpoint ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_removes_then_answers_not_exist() -> None:
    async with serve() as (sandbox, session):
        assert await delete(session, target(sandbox, [441, 442])) == (
            200,
            {"441": removed(441), "442": removed(442)},
        )
        assert await delete(session, target(sandbox, [441, 442])) == (
            200,
            {"441": NOT_EXIST, "442": NOT_EXIST},
        )
        assert sandbox.state.remaining() == {"00001": 998}


@pytest.mark.anyio
async def test_mixed_answer_is_207_and_keeps_the_order_sent() -> None:
    async with serve() as (sandbox, session):
        status, body = await delete(session, target(sandbox, [5000, 7, 0]))
        assert status == 207
        assert list(body.items()) == [("5000", NOT_EXIST), ("7", removed(7)), ("0", NOT_EXIST)]


@pytest.mark.anyio
async def test_accepts_both_key_spellings_and_collapses_duplicates() -> None:
    async with serve() as (sandbox, session):
        query = "customer_id[]=5&customer_id%5B%5D=6&customer_id[]=5&other=x&customer_id%5b%5d=8"
        url = URL(f"{sandbox.base_url}/batch/crm_outbounds/00001/records?{query}", encoded=True)
        status, body = await delete(session, url)
        assert status == 200
        assert body == {"5": removed(5), "6": removed(6), "8": removed(8)}
        assert sandbox.stats.max_target_length_seen == len(url.raw_path_qs), "sent as written"
        assert sandbox.stats.ids_requested == 4


@pytest.mark.anyio
async def test_fast_path_and_slow_path_agree() -> None:
    async with serve() as (sandbox, session):
        status, body = await delete(session, target(sandbox, [1, 2], key="customer_id[]"))
        assert (status, body) == (200, {"1": removed(1), "2": removed(2)})
        # An id written with leading zeros is the same customer, answered under the key as sent.
        status, body = await delete(session, target(sandbox, ["003", "%34", 3]))
        assert (status, body) == (207, {"003": removed(3), "4": removed(4), "3": NOT_EXIST})


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": aiohttp.encode_basic_auth("api_user", "wrong")},
        {"Authorization": aiohttp.encode_basic_auth("someone", "api_pass")},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic !!!"},
    ],
)
async def test_401_without_or_with_wrong_credentials(headers: dict[str, str]) -> None:
    async with serve() as (sandbox, session):
        status, body = await delete(session, target(sandbox, [1]), headers)
        assert status == 401
        assert_error_body(body)
        assert 1 in sandbox.state.campaigns["00001"].records


@pytest.mark.anyio
async def test_credentials_are_configurable_and_the_scheme_case_insensitive() -> None:
    async with serve(username="u", password="p:w") as (sandbox, session):
        token = aiohttp.encode_basic_auth("u", "p:w").split(" ", 1)[1]
        status, _ = await delete(session, target(sandbox, [1]), {"Authorization": f"basic {token}"})
        assert status == 200
        status, _ = await delete(session, target(sandbox, [2]))
        assert status == 401


@pytest.mark.anyio
async def test_403_when_permission_is_denied() -> None:
    async with serve(deny_permission=True) as (sandbox, session):
        status, body = await delete(session, target(sandbox, [1]))
        assert status == 403
        assert_error_body(body)
        status, _ = await delete(session, target(sandbox, [1]), {})
        assert status == 401, "credentials are checked first"
        assert sandbox.state.remaining() == {"00001": 1000}


@pytest.mark.anyio
async def test_404_unknown_campaign_or_uri_and_405_wrong_method() -> None:
    async with serve() as (sandbox, session):
        status, body = await delete(session, target(sandbox, [1], campaign="00002"))
        assert status == 404
        assert_error_body(body)
        assert "00002" in body["errors"][0]["message"]
        url = URL(f"{sandbox.base_url}/batch/outbounds/00001/records?{KEY}=1", encoded=True)
        status, body = await delete(session, url)
        assert status == 404
        assert_error_body(body)
        async with session.get(target(sandbox, [1]), headers=AUTH) as response:
            assert response.status == 405
            assert response.headers["Allow"] == "DELETE"
            assert_error_body(orjson.loads(await response.read()))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", "required"),
        ("other=1", "required"),
        (f"{KEY}=", "empty"),
        (f"{KEY}=1&{KEY}=abc", "'abc'"),
        (f"{KEY}=12a", "'12a'"),
        (f"{KEY}=-1", "'-1'"),
        (f"{KEY}=1.5", "'1.5'"),
        (f"{KEY}=%EF%BC%91", "'\uff11'"),  # a fullwidth digit is not an ASCII digit
    ],
)
async def test_400_validation_error_removes_nothing(query: str, problem: str) -> None:
    async with serve() as (sandbox, session):
        url = URL(f"{sandbox.base_url}/batch/crm_outbounds/00001/records?{query}", encoded=True)
        status, body = await delete(session, url)
        assert status == 400
        assert_error_body(body)
        assert problem in body["errors"][0]["message"]
        assert sandbox.state.remaining() == {"00001": 1000}


def padded_target(sandbox: Sandbox, length: int) -> URL:
    """A batch of ids 1..100 padded with an ignored parameter to ``length`` bytes of target."""
    url = target(sandbox, range(1, 101))
    pad = length - len(url.raw_path_qs) - len("&pad=")
    padded = URL(f"{url}&pad={'x' * pad}", encoded=True)
    assert len(padded.raw_path_qs) == length
    return padded


@pytest.mark.anyio
async def test_414_over_the_default_limit_and_just_under_passes() -> None:
    async with serve() as (sandbox, session):
        for length in (DEFAULT_MAX_TARGET_LENGTH + 1, 20_000):  # 20,000 is past aiohttp's 8190
            status, body = await delete(session, padded_target(sandbox, length))
            assert status == 414
            assert_error_body(body)
        assert sandbox.state.remaining() == {"00001": 1000}
        status, body = await delete(session, padded_target(sandbox, DEFAULT_MAX_TARGET_LENGTH))
        assert status == 200
        assert len(body) == 100
        assert sandbox.stats.max_target_length_seen == 20_000


@pytest.mark.anyio
async def test_414_limit_is_configurable_and_can_be_lifted() -> None:
    async with serve(max_target_length=100) as (sandbox, session):
        status, _ = await delete(session, target(sandbox, range(1, 5)))
        assert status == 414
        await admin(session, sandbox, "faults", {"max_target_length": None})
        status, _ = await delete(session, padded_target(sandbox, 50_000))
        assert status == 200


@pytest.mark.anyio
async def test_429_with_retry_after_in_seconds() -> None:
    async with serve(rate_limit=0.5, rate_burst=2) as (sandbox, session):
        statuses = [(await delete(session, target(sandbox, [i])))[0] for i in (1, 2)]
        assert statuses == [200, 200], "the burst passes"
        async with session.delete(target(sandbox, [3]), headers=AUTH) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "2", "1/0.5 s, rounded up"
            assert_error_body(orjson.loads(await response.read()))
        assert 3 in sandbox.state.campaigns["00001"].records


@pytest.mark.anyio
async def test_429_with_retry_after_as_an_http_date() -> None:
    async with serve(rate_limit=0.25, retry_after_http_date=True) as (sandbox, session):
        assert (await delete(session, target(sandbox, [1])))[0] == 200
        async with session.delete(target(sandbox, [2]), headers=AUTH) as response:
            assert response.status == 429
            when = parsedate_to_datetime(response.headers["Retry-After"])
        wait = (when - datetime.now(UTC)).total_seconds()
        assert 2 < wait <= 5, "about 4 s ahead, rounded up to the second"


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.take() == 0.0
    now[0] = 100.0
    assert [bucket.take() for _ in range(4)][-1] == pytest.approx(0.5), "at most burst saved"


# --- calls ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_record_in_a_call_stays_until_the_call_ends() -> None:
    async with serve() as (sandbox, session):
        status, body = await admin(
            session,
            sandbox,
            "calls",
            {"campaign": "00001", "ids": [10, 11, 5000], "duration_s": 0.3},
        )
        assert status == 200
        assert body["present"] == 2
        assert await delete(session, target(sandbox, [10, 11])) == (
            200,
            {"10": IN_CALL, "11": IN_CALL},
        )
        status, body = await delete(session, target(sandbox, [10, 12]))
        assert (status, body) == (207, {"10": IN_CALL, "12": removed(12)})
        assert 10 in sandbox.state.campaigns["00001"].records
        await anyio.sleep(0.35)
        assert await delete(session, target(sandbox, [10, 11])) == (
            200,
            {"10": removed(10), "11": removed(11)},
        )


@pytest.mark.anyio
async def test_a_call_without_end_and_bad_admin_bodies() -> None:
    async with serve() as (sandbox, session):
        call = {"campaign": "00001", "ids": [1], "duration_s": None}
        assert (await admin(session, sandbox, "calls", call))[0] == 200
        assert (await delete(session, target(sandbox, [1])))[1] == {"1": IN_CALL}
        assert sandbox.state.campaigns["00001"].in_call(1, 1e18)
        bad = [
            {"campaign": "00001", "ids": ["1"], "duration_s": 1},
            {"campaign": "00001", "ids": [1], "duration_s": -1},
            [1, 2],
        ]
        for body in bad:
            status, answer = await admin(session, sandbox, "calls", body)
            assert status == 400
            assert_error_body(answer)
        status, _ = await admin(session, sandbox, "calls", {"campaign": "0000X", "ids": [1]})
        assert status == 404


def in_call_ids(sandbox: Sandbox, now: float) -> set[int]:
    campaign = sandbox.state.campaigns["00001"]
    return {cid for cid in range(1, 1001) if campaign.in_call(cid, now)}


@pytest.mark.anyio
async def test_call_share_is_seeded() -> None:
    never: dict[str, Any] = {"call_share": 0.3, "call_max_s": math.inf}
    async with serve(seed=7, **never) as (first, _), serve(seed=7, **never) as (again, _):
        chosen = in_call_ids(first, first.state.start)
        assert 200 < len(chosen) < 400
        assert chosen == in_call_ids(again, again.state.start), "same seed, same calls"
        assert chosen == in_call_ids(first, 1e18), "these calls never end"
    async with serve(seed=8, **never) as (other, _):
        assert in_call_ids(other, other.state.start) != chosen


@pytest.mark.anyio
async def test_seeded_calls_end_within_their_bounds() -> None:
    options: dict[str, Any] = {"call_share": 1.0, "call_min_s": 0.25, "call_max_s": 0.4}
    async with serve(seed=1, **options) as (sandbox, session):
        start = sandbox.state.start
        assert len(in_call_ids(sandbox, start + 0.249)) == 1000
        assert 0 < len(in_call_ids(sandbox, start + 0.32)) < 1000
        assert in_call_ids(sandbox, start + 0.4) == set()
        status, body = await delete(session, target(sandbox, [1, 2]))
        assert (status, body) == (200, {"1": IN_CALL, "2": IN_CALL})
        await anyio.sleep(max(0.0, start + 0.41 - time.monotonic()))
        assert await delete(session, target(sandbox, [1, 2])) == (
            200,
            {"1": removed(1), "2": removed(2)},
        )


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_error_share_answers_5xx_and_removes_nothing() -> None:
    async with serve(error_share=1.0, seed=3) as (sandbox, session):
        statuses = set()
        for _ in range(12):
            status, body = await delete(session, target(sandbox, [1]))
            assert_error_body(body)
            statuses.add(status)
        assert statuses == {500, 502, 503}
        assert sandbox.state.remaining() == {"00001": 1000}


@pytest.mark.anyio
async def test_html_share_answers_200_with_a_page_and_removes_nothing() -> None:
    async with serve(html_share=1.0) as (sandbox, session):
        async with session.delete(target(sandbox, [1]), headers=AUTH) as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            assert "<html>" in await response.text()
        assert sandbox.state.remaining() == {"00001": 1000}


@pytest.mark.anyio
async def test_drop_share_removes_then_closes_without_an_answer() -> None:
    async with serve(drop_share=1.0) as (sandbox, session):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await delete(session, target(sandbox, [1, 2]))
        assert sandbox.state.remaining() == {"00001": 998}
        # aiohttp resends an idempotent request once after a disconnect: the server sees two.
        assert sandbox.stats.dropped == sandbox.stats.requests == 2
        assert sandbox.stats.by_outcome[Outcome.NOT_EXIST] == 2, "the resend found them gone"
        assert sandbox.stats.by_status == {}


@pytest.mark.anyio
async def test_late_answer_times_out_although_the_records_are_gone() -> None:
    async with serve(late_share=1.0, late_delay_s=0.5) as (sandbox, session):
        with pytest.raises(asyncio.TimeoutError):
            async with session.delete(
                target(sandbox, [1]), headers=AUTH, timeout=aiohttp.ClientTimeout(total=0.15)
            ):
                pass
        assert 1 not in sandbox.state.campaigns["00001"].records
        sandbox.reconfigure(late_share=0.0)
        assert (await delete(session, target(sandbox, [1])))[1] == {"1": NOT_EXIST}


@pytest.mark.anyio
async def test_faults_change_at_runtime_and_are_validated() -> None:
    async with serve() as (sandbox, session):
        status, body = await admin(session, sandbox, "faults", {"error_share": 1, "rate_limit": 5})
        assert status == 200
        assert body["error_share"] == 1.0 and body["rate_limit"] == 5.0
        assert (await delete(session, target(sandbox, [1])))[0] in {500, 502, 503}
        for bad in ({"error_share": 2}, {"nope": 1}, {"deny_permission": 1}, {"rate_burst": 0}):
            status, answer = await admin(session, sandbox, "faults", bad)
            assert status == 400
            assert_error_body(answer)
        assert sandbox.config.error_share == 1.0, "a refused change changes nothing"
        assert (await admin(session, sandbox, "faults"))[1]["rate_limit"] == 5.0


# --- stats and admin --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_stats_count_requests_ids_and_concurrency() -> None:
    async with serve(latency_min_s=0.2, latency_max_s=0.2) as (sandbox, session):
        urls = [target(sandbox, [i, i + 1]) for i in range(1, 10, 2)]
        started = time.monotonic()
        results = await asyncio.gather(*(delete(session, url) for url in urls))
        assert 0.2 <= time.monotonic() - started < 0.5, "each waits 0.2 s, all at once"
        assert {status for status, _ in results} == {200}
        longest = target(sandbox, [1, 999_999])
        await delete(session, longest)
        status, stats = await admin(session, sandbox, "stats")
    assert status == 200
    assert stats["requests"] == 6
    assert stats["ids_requested"] == 12
    assert stats["ids_removed"] == 10
    assert stats["in_flight"] == 0
    assert stats["peak_in_flight"] == 5
    assert stats["by_status"] == {"200": 6}, "the last answer is uniform: all NOT_EXIST"
    assert stats["by_outcome"] == {"REMOVED": 10, "NOT_EXIST": 2, "CALL_IN_PROGRESS": 0}
    assert stats["max_target_length_seen"] == len(longest.raw_path_qs)
    assert stats["max_requests_in_1s"] == 6
    assert stats["remaining"] == {"00001": 990}


@pytest.mark.anyio
async def test_max_requests_in_1s_is_a_sliding_window() -> None:
    now = [100.0]
    async with serve(clock=lambda: now[0]) as (sandbox, session):
        for _ in range(3):
            await delete(session, target(sandbox, [1]))
            now[0] += 0.4
        now[0] += 0.3  # 101.5: the window (100.5, 101.5] holds the third request only
        for _ in range(3):
            await delete(session, target(sandbox, [1]))
        # Fixed one-second buckets would say 3; a window that never slides, 6.
        assert sandbox.stats.max_requests_in_1s == 4
        assert sandbox.stats.requests == 6


@pytest.mark.anyio
async def test_admin_lists_remaining_records_of_each_campaign(tmp_path: Path) -> None:
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# exported\n30\n10\n\n20  # a comment\n")
    campaigns = (parse_campaign_spec("00001=5-8"), parse_campaign_spec(f"0000A=@{ids_file}"))
    async with serve(campaigns=campaigns) as (sandbox, session):
        await delete(session, target(sandbox, [6, 9]))
        await delete(session, target(sandbox, [20], campaign="0000A"))
        assert await admin(session, sandbox, "campaigns/00001/records") == (
            200,
            {"remaining": 3, "ids": [5, 7, 8]},
        )
        assert await admin(session, sandbox, "campaigns/0000A/records") == (
            200,
            {"remaining": 2, "ids": [10, 30]},
        )
        status, body = await admin(session, sandbox, "campaigns/0000B/records")
        assert status == 404
        assert_error_body(body)


# --- configuration and data structures --------------------------------------------------------


def test_campaign_specs(tmp_path: Path) -> None:
    assert parse_campaign_spec("00001=1-100000") == RangeSeed("00001", 1, 100_000)
    assert parse_campaign_spec("00002=42") == RangeSeed("00002", 42, 42)
    (tmp_path / "ids.txt").write_text("3\n1\n")
    assert parse_campaign_spec(f"00003=@{tmp_path / 'ids.txt'}") == IdsSeed(
        "00003", frozenset({1, 3})
    )
    (tmp_path / "bad.txt").write_text("1\nx2\n")
    for spec in (
        "00001",
        "0001=1-5",
        "00001=5-1",
        "00001=0-5",
        "00001=a-b",
        f"00001=@{tmp_path / 'missing.txt'}",
        f"00001=@{tmp_path / 'bad.txt'}",
    ):
        with pytest.raises(ValueError):  # noqa: PT011 (each spec fails in its own way)
            parse_campaign_spec(spec)


@pytest.mark.parametrize(
    "options",
    [
        {"error_share": 1.5},
        {"latency_min_s": 2.0, "latency_max_s": 1.0},
        {"call_min_s": 5.0, "call_max_s": 1.0},
        {"rate_limit": 0.0},
        {"rate_burst": 0},
        {"max_target_length": 0},
        {"campaigns": ()},
        {"campaigns": (RangeSeed("00001", 1, 2), RangeSeed("00001", 3, 4))},
    ],
)
def test_config_refuses_nonsense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message names the field; see below)
        SandboxConfig(**options)


def test_config_error_names_the_field() -> None:
    with pytest.raises(ValueError, match="drop_share"):
        SandboxConfig(drop_share=-0.1)


@settings(max_examples=60, deadline=None)
@given(
    first=st.integers(1, 1000),
    size=st.integers(1, 100),
    ops=st.lists(st.lists(st.integers(-5, 1200), max_size=20), max_size=10),
)
def test_range_records_behave_like_a_set(first: int, size: int, ops: list[list[int]]) -> None:
    records = RangeRecords(first, first + size - 1)
    model = set(range(first, first + size))
    for batch in ops:
        expected = []
        for cid in batch:
            expected.append(cid in model)
            model.discard(cid)
        assert records.discard_many(batch, True, False) == expected
        assert len(records) == len(model)
    assert list(records) == sorted(model)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(0, 10**18), min_size=1, max_size=30),
    keys=st.lists(st.sampled_from(["customer_id[]", KEY, "customer_id%5b%5d"]), min_size=1),
)
def test_query_parsing_takes_every_spelling(ids: list[int], keys: list[str]) -> None:
    query = "&".join(f"{keys[n % len(keys)]}={cid}" for n, cid in enumerate(ids))
    assert customer_ids(query) == [str(cid) for cid in ids]
    with pytest.raises(ValidationError):
        customer_ids(query + f"&{keys[0]}=x")


# --- command line ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cli_serves_until_terminated() -> None:
    command = [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0"]
    async with await anyio.open_process([*command, "--campaign", "00007=10-20"]) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        line = b""
        with anyio.fail_after(15):
            try:
                while not line.endswith(b"\n"):
                    line += await process.stdout.receive(1)
            except anyio.EndOfStream:
                errors = b"".join([chunk async for chunk in process.stderr])
                pytest.fail(f"the sandbox exited before listening: {errors.decode()[-2000:]}")
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/api)\n", line.decode())
        assert match, line
        url = URL(f"{match[1]}/batch/crm_outbounds/00007/records?{KEY}=10&{KEY}=9", encoded=True)
        async with aiohttp.ClientSession() as session:
            assert await delete(session, url) == (207, {"10": removed(10), "9": NOT_EXIST})
        process.terminate()
        with anyio.fail_after(10):
            assert await process.wait() == 0
