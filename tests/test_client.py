"""The client against the real sandbox over loopback: one test per answer and per error class."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from bulkremove.answers import CALL_IN_PROGRESS, NOT_EXIST, REMOVED
from bulkremove.batching import pack
from bulkremove.client import Client
from bulkremove.errors import (
    AuthenticationError,
    BadAnswerError,
    CampaignNotFoundError,
    CannotConnectError,
    ConnectionLostError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransientApiError,
    UrlTooLongError,
)
from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig
from bulkremove.settings import Settings

pytestmark = pytest.mark.anyio

Pair = tuple[Sandbox, Client]
Connect = Callable[..., AbstractAsyncContextManager[Pair]]


@pytest.fixture
def connect() -> Connect:
    @asynccontextmanager
    async def open_pair(
        *, settings: dict[str, Any] | None = None, **sandbox: Any
    ) -> AsyncIterator[Pair]:
        config = SandboxConfig(port=0, campaigns=(RangeSeed("00001", 1, 5000),), **sandbox)
        async with Sandbox(config) as server:
            base = Settings(base_url=server.base_url, username="api_user", password="api_pass")
            async with Client(replace(base, **(settings or {}))) as client:
                yield server, client

    return open_pair


async def test_removed_then_not_exist(connect: Connect) -> None:
    async with connect() as (server, client):
        first = await client.delete_batch("00001", [441, 442])
        assert [(o.customer_id, o.status) for o in first] == [(441, REMOVED), (442, REMOVED)]
        assert all(o.record_id for o in first)
        second = await client.delete_batch("00001", [441, 443, 999_999])
        assert [o.status for o in second] == [NOT_EXIST, REMOVED, NOT_EXIST]
        assert server.stats.requests == 2


async def test_call_in_progress_is_an_outcome(connect: Connect) -> None:
    async with connect() as (server, client):
        server.put_in_call("00001", [7], None)
        outcomes = await client.delete_batch("00001", [7, 8])
        assert [o.status for o in outcomes] == [CALL_IN_PROGRESS, REMOVED]


async def test_wrong_password_is_authentication_error(connect: Connect) -> None:
    async with connect(settings={"password": "nope"}) as (_, client):
        with pytest.raises(AuthenticationError, match="HTTP 401") as info:
            await client.delete_batch("00001", [1])
        assert "nope" not in str(info.value)


async def test_permission_denied(connect: Connect) -> None:
    async with connect(deny_permission=True) as (_, client):
        with pytest.raises(PermissionDeniedError, match="HTTP 403"):
            await client.delete_batch("00001", [1])


async def test_unknown_campaign_carries_the_server_message(connect: Connect) -> None:
    async with connect() as (_, client):
        with pytest.raises(CampaignNotFoundError, match=r"HTTP 404: .*\[request_id"):
            await client.delete_batch("00009", [1])


async def test_a_404_of_per_record_answers_is_read_as_not_exist(connect: Connect) -> None:
    async with connect(hostile="not_found_404") as (_, client):
        outcomes = await client.delete_batch("00001", [1, 2, 3])
        assert [(o.customer_id, o.status) for o in outcomes] == [
            (1, NOT_EXIST), (2, NOT_EXIST), (3, NOT_EXIST)
        ]  # fmt: skip
        with pytest.raises(CampaignNotFoundError):
            await client.delete_batch("00009", [1])


async def test_duplicate_entries_keep_the_removal(connect: Connect) -> None:
    async with connect(hostile="duplicates") as (_, client):
        outcomes = await client.delete_batch("00001", [1, 2, 3])
        assert [(o.status, o.record_id) for o in outcomes] == [
            (REMOVED, 5_000_001), (REMOVED, 5_000_002), (REMOVED, 5_000_003)
        ]  # fmt: skip
        assert all(o.detail and "duplicate" in o.detail for o in outcomes)


async def test_url_too_long(connect: Connect) -> None:
    async with connect(max_target_length=200) as (_, client):
        ids = list(range(1, 30))
        assert len(client.url("00001", ids).raw_path_qs) > 200
        with pytest.raises(UrlTooLongError, match="HTTP 414"):
            await client.delete_batch("00001", ids)


@pytest.mark.parametrize("http_date", [False, True])
async def test_throttled_with_retry_after(connect: Connect, http_date: bool) -> None:
    async with connect(rate_limit=0.5, retry_after_http_date=http_date) as (_, client):
        await client.delete_batch("00001", [1])
        with pytest.raises(ThrottledError) as info:
            await client.delete_batch("00001", [2])
        assert info.value.status == 429
        assert info.value.retry_after is not None
        assert 0 <= info.value.retry_after <= 3


async def test_server_error(connect: Connect) -> None:
    async with connect(error_share=1.0) as (server, client):
        with pytest.raises(ServerError) as info:
            await client.delete_batch("00001", [1])
        assert info.value.status is not None and info.value.status >= 500
        assert server.state.remaining()["00001"] == 5000


async def test_html_body_is_a_bad_answer(connect: Connect) -> None:
    async with connect(html_share=1.0) as (_, client):
        with pytest.raises(BadAnswerError, match="not JSON"):
            await client.delete_batch("00001", [1])


async def test_late_answer_is_a_timeout_with_the_answer_lost(connect: Connect) -> None:
    async with connect(late_share=1.0, late_delay_s=2.0, settings={"request_timeout": 0.3}) as (
        server,
        client,
    ):
        with pytest.raises(RequestTimeoutError) as info:
            await client.delete_batch("00001", [5])
        assert info.value.answer_lost
        assert server.state.remaining()["00001"] == 4999, "the server did carry it out"


async def test_dropped_connection_loses_the_answer(connect: Connect) -> None:
    async with connect(drop_share=1.0) as (server, client):
        with pytest.raises(ConnectionLostError) as info:
            await client.delete_batch("00001", [5])
        assert info.value.answer_lost
        assert server.state.remaining()["00001"] == 4999
        assert server.stats.requests == 1, "the request was not silently sent again"


async def test_refused_connection_did_not_send() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(base_url=f"http://127.0.0.1:{port}/api", username="u", password="p")
    async with Client(settings) as client:
        with pytest.raises(CannotConnectError, match="could not connect") as info:
            await client.delete_batch("00001", [1])
        assert not isinstance(info.value, ConnectionLostError), "refused, not lost"
        assert isinstance(info.value, TransientApiError)
        assert not info.value.answer_lost


async def test_body_over_the_cap_is_refused(connect: Connect) -> None:
    async with connect(settings={"max_body_bytes": 1024}) as (_, client):
        with pytest.raises(BadAnswerError, match="cap"):
            await client.delete_batch("00001", list(range(1, 200)))


async def test_no_sent_request_exceeds_the_budget(connect: Connect) -> None:
    async with connect() as (server, client):
        budget = 600
        path = client.path("00001")
        for batch in pack(range(1, 3001), path, budget, 500):
            await client.delete_batch("00001", batch)
        stats = server.stats.snapshot({})
        assert 0 < int(str(stats["max_target_length_seen"])) <= budget
        assert server.state.remaining()["00001"] == 2000
