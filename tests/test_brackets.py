"""Query brackets raw or encoded: the bytes on the wire, their count, the sandbox taking both."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yarl
from records_sandbox import serve_records

from bulkremove.batching import count_batches, records_path, target_length
from bulkremove.client import Client
from bulkremove.errors import ConnectionLostError
from bulkremove.ids import parse_phone_number
from bulkremove.kinds import kind_named
from bulkremove.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

FORMS = ("raw", "encoded")
NUMBERS = ["0048500100200", "441", "600700800"]


def phone_keys() -> list[int]:
    return [k for k in map(parse_phone_number, NUMBERS) if k is not None]


@pytest.mark.parametrize("brackets", FORMS)
@pytest.mark.parametrize("target", ["customer_id", "phone_number"])
async def test_the_request_line_holds_exactly_the_bytes_counted(brackets: str, target: str) -> None:
    """A bare socket reads the request line as the server receives it."""
    lines: list[bytes] = []

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines.append(await reader.readline())
        writer.close()

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings(
        base_url=f"http://127.0.0.1:{port}/api", username="u", password="p",
        target=target, query_brackets=brackets, max_attempts=1,
    )  # fmt: skip
    keys = [441, 9, 123456] if target == "customer_id" else phone_keys()
    async with server, Client(settings) as client:
        with pytest.raises(ConnectionLostError):
            await client.delete_batch("00001", keys)
        path = client.path("00001")
    sent = lines[0].decode("ascii").split(" ")[1]
    assert len(sent) == target_length(path, keys, client.kind.pair)
    assert sent.count("[]") == (len(keys) if brackets == "raw" else 0)
    assert sent.count("%5B%5D") == (0 if brackets == "raw" else len(keys))
    # the same parameters either way, as a parser that decodes the query reads them
    decoded = yarl.URL(sent, encoded=True).query
    assert len(decoded.getall(client.kind.query_key[:-1].replace("%5B%5D", "[]"))) == len(keys)


@pytest.mark.parametrize("brackets", FORMS)
async def test_the_sandbox_removes_by_either_form_and_sees_the_counted_length(
    brackets: str, tmp_path: Path
) -> None:
    phones = {"00007": ("phone_number", [{"phone_number": n} for n in NUMBERS])}
    lengths = []
    async with serve_records(tmp_path, 100, phones) as (sandbox, _):
        for target, campaign, keys in (
            ("customer_id", "00001", [5, 17, 99]),
            ("phone_number", "00007", phone_keys()),
        ):
            settings = Settings(
                base_url=sandbox.base_url, username="api_user", password="api_pass",
                target=target, query_brackets=brackets,
            )  # fmt: skip
            async with Client(settings) as client:
                outcomes = await client.delete_batch(campaign, keys)
                lengths.append(target_length(client.path(campaign), keys, client.kind.pair))
            assert [o.status for o in outcomes] == ["REMOVED"] * 3
            # the longest request-target the server read is the longest counted
            assert sandbox.stats.max_target_length_seen == max(lengths)


def test_raw_brackets_save_four_bytes_a_key_for_both_kinds() -> None:
    for target in ("customer_id", "phone_number"):
        raw, encoded = kind_named(target, brackets="raw"), kind_named(target)
        assert encoded.pair - raw.pair == 4
        assert raw.query_key.endswith("[]=") and encoded.query_key.endswith("%5B%5D=")


def test_raw_brackets_need_fewer_requests_for_six_digit_ids() -> None:
    path = records_path("/api", "00001")
    widths = {6: 900_000}
    raw = count_batches(widths, path, 8000, 10_000, kind_named("customer_id", brackets="raw").pair)
    encoded = count_batches(widths, path, 8000, 10_000, kind_named("customer_id").pair)
    assert raw < encoded
    assert encoded / raw == pytest.approx(25 / 21, rel=0.01)  # 6 + 19 bytes against 6 + 15
