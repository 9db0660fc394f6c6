"""Hostile answers: a server or proxy that sends junk, or lies, never gets a record removed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from e2e import bulkremove, env, run_cli, sandbox, write_ids
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkremove.answers import MALFORMED, MISSING, NOT_EXIST, REMOVED, Outcome, parse_outcomes
from bulkremove.client import Client
from bulkremove.errors import BadAnswerError, TransientApiError
from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig
from bulkremove.sandbox.config import HOSTILE_MODES
from bulkremove.sandbox.hostile import HUGE_BYTES
from bulkremove.settings import Settings

pytestmark = pytest.mark.timeout(60)

OFFSET = 5_000_000  # the sandbox's record_id = customer id + this
INT64_MAX = (1 << 63) - 1
AUTH = aiohttp.encode_basic_auth("api_user", "api_pass")
ASKED = [2, 3, 10, 11, 41, 100]


def yes_env(**extra: str) -> dict[str, str]:
    """The user's environment, consenting ahead to runs (there is no terminal to ask on)."""
    return env(BULKREMOVE_ASSUME_YES="true", **extra)


@asynccontextmanager
async def hostile(mode: str, **changes: Any) -> AsyncIterator[tuple[Sandbox, Client]]:
    config = SandboxConfig(port=0, campaigns=(RangeSeed("00001", 1, 1000),), hostile=mode)
    async with Sandbox(config) as server:
        base = Settings(base_url=server.base_url, username="api_user", password="api_pass")
        async with Client(base) as client:
            yield server, client


async def ask(mode: str) -> list[Outcome]:
    async with hostile(mode) as (server, client):
        outcomes = await client.delete_batch("00001", ASKED)
        assert server.state.remaining()["00001"] == 1000 - len(ASKED), "removal carried out"
    assert [o.customer_id for o in outcomes] == ASKED
    return outcomes


def by_id(outcomes: list[Outcome]) -> dict[int, Outcome]:
    return {o.customer_id: o for o in outcomes}


# --- unusable bodies: a transient BadAnswerError ------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("huge", "cap"),
        ("nested", "not JSON"),
        ("truncated", "not JSON"),
        ("not_object", "not a JSON object"),
        ("html", "not JSON"),
        ("deep", "not JSON"),  # past the decoder's depth limit: a bad answer, never a crash
    ],
)
async def test_unusable_body_is_a_transient_bad_answer(mode: str, says: str) -> None:
    async with hostile(mode) as (_, client):
        with pytest.raises(BadAnswerError, match=says) as info:
            await client.delete_batch("00001", ASKED)
    assert isinstance(info.value, TransientApiError)
    assert info.value.status == 200
    assert len(str(info.value)) < 300, "the message quotes a bounded excerpt"


@pytest.mark.anyio
async def test_huge_body_is_streamed_and_refused_at_the_cap() -> None:
    assert Settings().max_body_bytes < HUGE_BYTES
    async with hostile("huge") as (_, client):
        # Read raw: no Content-Length, so only counting the bytes can catch it.
        session = aiohttp.ClientSession(headers={"Authorization": AUTH})
        async with session, session.delete(client.url("00001", [1])) as response:
            assert response.status == 200
            assert response.content_length is None
            size = len(await response.read())
        assert size > HUGE_BYTES
        with pytest.raises(BadAnswerError, match="over the 4194304-byte cap"):
            await client.delete_batch("00001", [2])


# --- parseable lies: outcomes only for what was said of exactly that id --------------------


@pytest.mark.anyio
async def test_entries_for_ids_not_asked_are_ignored() -> None:
    outcomes = await ask("unasked")
    assert all(o.status == REMOVED and o.record_id == o.customer_id + OFFSET for o in outcomes)


@pytest.mark.anyio
async def test_removed_for_some_and_missing_for_others() -> None:
    outcomes = by_id(await ask("lie"))
    for customer_id, outcome in outcomes.items():
        if customer_id % 2 == 0:
            assert outcome.status == REMOVED
            assert outcome.record_id == customer_id + OFFSET
        else:
            # REMOVED was said only under '0<id>' and for other ids: not for this one.
            assert outcome.status == MISSING
            assert outcome.record_id is None
            assert outcome.detail is not None
            assert outcome.detail.startswith("no entry for this id in the answer: {")


@pytest.mark.anyio
async def test_unusable_record_ids_are_dropped_but_kept_verbatim() -> None:
    outcomes = await ask("bad_record_id")
    for outcome in outcomes:
        assert outcome.status == REMOVED, "the server did say REMOVED"
        assert outcome.record_id is None, outcome
        assert outcome.detail is not None and '"status":"REMOVED"' in outcome.detail


@pytest.mark.anyio
async def test_statuses_that_are_not_exactly_removed_never_count() -> None:
    outcomes = await ask("bad_status")
    assert [o.status for o in outcomes] == [
        MALFORMED, MALFORMED, MALFORMED, MALFORMED, MALFORMED, "removed"
    ]  # fmt: skip
    assert all(o.detail for o in outcomes)


@pytest.mark.anyio
async def test_keys_that_only_look_like_the_id_never_count() -> None:
    outcomes = await ask("odd_keys")
    assert [o.status for o in outcomes] == [MISSING] * len(ASKED)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", HOSTILE_MODES)
async def test_no_mode_crashes_the_client_or_invents_a_removal(mode: str) -> None:
    lost: list[bool] = []
    async with hostile(mode) as (_, client):
        for batch in ([1], [5, 6, 7], list(range(200, 260))):
            try:
                outcomes = await client.delete_batch("00001", batch)
            except TransientApiError as exc:
                lost.append(exc.answer_lost)
                continue
            assert [o.customer_id for o in outcomes] == batch
            for outcome in outcomes:
                assert outcome.record_id is None or 0 < outcome.record_id <= INT64_MAX
                if outcome.status != REMOVED:
                    assert outcome.record_id is None
    assert all(lost), "an error after the removal was carried out leaves it possible"


@pytest.mark.anyio
async def test_hostile_mode_is_off_by_default_and_switchable() -> None:
    assert SandboxConfig().hostile is None
    with pytest.raises(ValueError, match="hostile='bogus' must be one of"):
        SandboxConfig(hostile="bogus")
    async with Sandbox(SandboxConfig(port=0)) as server, aiohttp.ClientSession() as session:
        faults = f"{server.url}/_sandbox/faults"
        async with session.get(faults) as answer:
            assert (await answer.json())["hostile"] is None
        async with session.post(faults, data=b'{"hostile": "lie"}') as answer:
            assert answer.status == 200
        assert server.config.hostile == "lie"
        async with session.post(faults, data=b'{"hostile": "bogus"}') as answer:
            assert answer.status == 400
        async with session.post(faults, data=b'{"hostile": null}') as answer:
            assert answer.status == 200
        assert server.config.hostile is None


# --- the parser on any answer --------------------------------------------------------------

json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats()
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
entry = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {"status": st.sampled_from([REMOVED, NOT_EXIST, "removed", "REMOVED ", 1, None])},
        optional={"record_id": json_value, "http_status": json_value},
    ),
)


def id_keys(customer_id: int) -> st.SearchStrategy[str]:
    """The id's own key, or spellings a lax reader might take for it."""
    key = str(customer_id)
    return st.sampled_from([key, key, "0" + key, f" {key}", f"{key} ", f"+{key}", f"{key}.0"])


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.integers(1, 10**18 - 1), min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_removed_only_when_said_for_exactly_that_id(ids: list[int], data: st.DataObject) -> None:
    keys = st.one_of(st.text(max_size=6), *[id_keys(i) for i in ids])
    answer = data.draw(st.dictionaries(keys, entry, max_size=8))
    try:
        body = orjson.dumps(answer)
    except orjson.JSONEncodeError:
        return  # an int past 64 bits: orjson cannot write it
    sent = orjson.loads(body)  # what the server said, as the wire carries it (NaN is null)
    outcomes = parse_outcomes(body, ids)
    assert [o.customer_id for o in outcomes] == ids
    for outcome in outcomes:
        said = sent.get(str(outcome.customer_id))
        exact = isinstance(said, dict) and said.get("status") == REMOVED
        assert (outcome.status == REMOVED) is exact
        assert outcome.record_id is None or 0 < outcome.record_id <= INT64_MAX
        if said is None:
            assert outcome.status == MISSING


# --- the command line ----------------------------------------------------------------------


def journal_rows(path: Path) -> dict[int, tuple[str, int | None, str | None]]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT customer_id, state, record_id, detail FROM records_view"
        ).fetchall()
    finally:
        con.close()
    return {int(c): (str(state), rid, detail) for c, state, rid, detail in rows}


def test_cli_a_lying_server_gets_only_what_it_said_removed(tmp_path: Path) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 201))
    with sandbox("--campaign", "00001=1-200", "--hostile", "lie") as server:
        done = run_cli(
            server,
            "ids.txt",
            "--max-ids-per-request",
            "30",
            "--rate",
            "500",
            "--report",
            "-",
            cwd=tmp_path,
            environ=yes_env(),
        )
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    rows = journal_rows(tmp_path / "j.sqlite")
    assert set(rows) == set(range(1, 201)), "nothing else entered the journal"
    for customer_id, (state, record_id, detail) in rows.items():
        if customer_id % 2 == 0:
            assert (state, record_id) == ("removed", customer_id + OFFSET)
        else:
            assert state == "failed"
            assert record_id is None
            assert detail is not None
            assert detail.startswith("no entry for this id in the answer: {")
            assert '"REMOVED"' in detail, "the raw answer is kept"
    report = orjson.loads(done.stdout)
    assert report["totals"]["removed"] == 100
    assert report["totals"]["failed"] == 100
    assert report["exit_code"] == 4


def test_cli_record_ids_past_64_bits_do_not_crash_the_run(tmp_path: Path) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox("--campaign", "00001=1-100", "--hostile", "bad_record_id") as server:
        done = run_cli(server, "ids.txt", "--rate", "500", cwd=tmp_path, environ=yes_env())
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    rows = journal_rows(tmp_path / "j.sqlite")
    assert {state for state, _, _ in rows.values()} == {"removed"}
    assert all(record_id is None and detail for _, record_id, detail in rows.values())
    assert any("18446744073709551615" in str(detail) for _, _, detail in rows.values())


def flags(path: Path) -> dict[int, tuple[str, int]]:
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT customer_id, state, answer_lost FROM records_view").fetchall()
    return {int(c): (str(state), int(lost)) for c, state, lost in rows}


# a 5xx with HTML, {} and truncated JSON; the client tests above cover the other bodies
@pytest.mark.parametrize("mode", ["gateway", "empty", "truncated"])
def test_cli_removals_behind_an_unreadable_answer_stay_flagged(tmp_path: Path, mode: str) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 41))
    with sandbox("--campaign", "00001=1-100", "--hostile", mode) as server:
        first = run_cli(
            server, "ids.txt", "--max-ids-per-request", "20", "--max-attempts", "1",
            "--retry-initial", "0.01", cwd=tmp_path, environ=yes_env(),
        )  # fmt: skip
        assert first.returncode == 4, first.stderr
        assert server.remaining() == set(range(41, 101)), "the server did remove them"
        assert flags(tmp_path / "j.sqlite") == dict.fromkeys(range(1, 41), ("failed", 1))
        assert "failed after an unreadable or lost answer" in first.stderr
        report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
        assert report["failed_after_lost_answer"] == 40
        server.post("/_sandbox/faults", {"hostile": None})
        done = bulkremove(
            ["run", "--resume", "j.sqlite", "--report", "-"], cwd=tmp_path, environ=yes_env()
        )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["not_found_after_lost_answer"], report["failed_after_lost_answer"]) == (40, 0)
    # every NOT_EXIST of the resume follows a removal whose answer could not be read
    assert flags(tmp_path / "j.sqlite") == dict.fromkeys(range(1, 41), ("not_found", 1))


@pytest.mark.parametrize(
    ("mode", "state"), [("duplicates", "removed"), ("not_found_404", "not_found")]
)
def test_cli_duplicate_keys_and_a_404_of_answers_end_well(
    tmp_path: Path, mode: str, state: str
) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 31))
    with sandbox("--campaign", "00001=1-100", "--hostile", mode) as server:
        done = run_cli(server, "ids.txt", cwd=tmp_path, environ=yes_env())
    assert done.returncode == 0, done.stderr
    rows = journal_rows(tmp_path / "j.sqlite")
    assert {s for s, _, _ in rows.values()} == {state}
    if mode == "duplicates":
        assert all(rid == cid + OFFSET for cid, (_, rid, _) in rows.items())
        assert all(d and d.startswith("duplicate entries") for _, _, d in rows.values())
