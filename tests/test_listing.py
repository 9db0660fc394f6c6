"""The listing client: filters, pages, GETs under the limiter and retries, then over loopback."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from e2e import PASSWORD, sandbox, write_records
from hypothesis import given
from hypothesis import strategies as st
from virtual_time import VirtualTime

from bulkremove.errors import (
    AuthenticationError,
    BadAnswerError,
    BatchRejectedError,
    CampaignNotFoundError,
    ListingFailedError,
    ListingRefusedError,
    ServerError,
    ThrottledError,
)
from bulkremove.ids import parse_phone_number
from bulkremove.kinds import CUSTOMER_ID as CUSTOMERS
from bulkremove.kinds import PHONE_NUMBER as PHONE_NUMBERS
from bulkremove.listing import (
    SYSTEM_STATUSES,
    FilterError,
    Filters,
    Lister,
    parse_filters,
)
from bulkremove.listing.pages import page_target, read_page, record_target
from bulkremove.settings import Settings

# --- filters ---------------------------------------------------------------------------


def test_flag_items_group_by_key_and_query_in_the_apis_names() -> None:
    filters = parse_filters(
        [
            "create_date_to=2025-12-31",
            "system_status=NO_CALL",
            "system_status=abandoned_after_n_tries",
            "system_status=NO_CALL",
        ]
    )
    assert filters.as_dict() == {
        "system_status": ["NO_CALL", "ABANDONED_AFTER_N_TRIES"],
        "create_date_to": "2025-12-31",
    }
    assert filters.query() == (
        "system_status%5B%5D=NO_CALL&system_status%5B%5D=ABANDONED_AFTER_N_TRIES"
        "&create_date_to=2025-12-31"
    )


def test_a_config_table_reads_lists_dates_and_numbers() -> None:
    table = {
        "system_status": ["NO_CALL"],
        "status_id": [3, "4"],
        "create_date_from": datetime.date(2025, 1, 1),
        "call_date_to": "2025-06-30",
    }
    assert parse_filters(table).as_dict() == {
        "system_status": ["NO_CALL"],
        "status_id": ["3", "4"],
        "create_date_from": "2025-01-01",
        "call_date_to": "2025-06-30",
    }


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["colour=red"], "a key of system_status"),
        (["system_status=NOCALL"], "not 'NOCALL'"),
        (["status_id=0"], "a positive integer in status_id"),
        (["create_date_to=2025-02-30"], "a real date in create_date_to"),
        (["create_date_to=20251231"], "a date YYYY-MM-DD"),
        (["call_date_from=2025-02-01", "call_date_to=2025-01-31"], "call_date_from 2025-02-01"),
        (["create_date_to=2025-01-01", "create_date_to=2025-01-02"], "one value for"),
        (["system_status"], "KEY=VALUE"),
        ([], "at least one filter"),
        ({"system_status": []}, "at least one value"),
        (7, "KEY=VALUE items"),
    ],
)
def test_bad_filters_are_refused_saying_what(given: Any, says: str) -> None:
    with pytest.raises(FilterError, match=says):
        parse_filters(given)


_items = st.lists(
    st.one_of(
        st.sampled_from(SYSTEM_STATUSES).map(lambda s: f"system_status={s}"),
        st.integers(1, 99).map(lambda n: f"status_id={n}"),
        st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31)).map(
            lambda d: f"create_date_to={d}"
        ),
    ),
    min_size=1,
    max_size=6,
)


@given(_items)
def test_the_text_of_filters_reads_back_as_the_same_filters(items: list[str]) -> None:
    try:
        filters = parse_filters(items)
    except FilterError:
        return  # two different create_date_to values
    assert parse_filters(str(filters)) == filters
    assert parse_filters(filters.as_dict()) == filters
    assert hash(parse_filters(str(filters))) == hash(filters)


# --- pages -----------------------------------------------------------------------------


def _body(count: int, records: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"count": count, "result": records})


def test_targets_of_pages_and_of_one_record() -> None:
    filters = parse_filters(["system_status=NO_CALL"])
    assert page_target(CUSTOMERS, "00001", filters, 200) == (
        "crm_outbounds/00001/records?limit=100&offset=200&system_status%5B%5D=NO_CALL"
    )
    assert page_target(PHONE_NUMBERS, "00007", None, 0) == (
        "outbounds/00007/records?limit=100&offset=0"
    )
    assert record_target("00001", 441) == "crm_outbounds/00001/records/441"


def test_a_page_keeps_every_field_and_reads_the_key() -> None:
    entry = {"record_id": 5, "customer_id": 441, "system_status": "NO_CALL", "order": 0}
    page = read_page(_body(1, [entry]), CUSTOMERS, 0)
    assert page.count == 1 and page.last
    (record,) = page.records
    assert (record.record_id, record.key, record.system_status) == (5, 441, "NO_CALL")
    assert record.fields == entry
    phone = read_page(_body(1, [{"record_id": 6, "phone_number": "0048500"}]), PHONE_NUMBERS, 0)
    assert phone.records[0].key == parse_phone_number("0048500")  # the journal's key
    assert phone.records[0].fields["phone_number"] == "0048500"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>",
        b"[]",
        _body(-1, []),
        b'{"count": 1}',
        _body(1, [{"customer_id": 1}]),
        _body(1, [{"record_id": 1, "customer_id": 0}]),
        _body(1, [{"record_id": 1, "phone_number": "+48500"}]),
        _body(1, ["x"]),
    ],
)
def test_an_unreadable_page_is_a_bad_answer(body: bytes) -> None:
    with pytest.raises(BadAnswerError):
        read_page(body, PHONE_NUMBERS if b"phone" in body else CUSTOMERS, 0)


# --- GETs under the limiter and retries ------------------------------------------------


class ScriptedGetter:
    """Answers GETs from a function of the target, or raises what the script says."""

    def __init__(self, answer: Callable[[str], bytes | Exception | None]) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def get(self, target: str, *, absent: bool = False) -> bytes | None:
        self.asked.append(target)
        result = self.answer(target)
        if isinstance(result, Exception):
            raise result
        return result


def _lister(getter: ScriptedGetter, clock: VirtualTime, **settings: Any) -> Lister:
    chosen = Settings(**{"rate": 10.0, "max_attempts": 4, **settings})
    return Lister(getter, chosen, clock=clock, sleep=clock.sleep)


async def _run(clock: VirtualTime, work: Callable[[], Any]) -> Any:
    """``work()`` on virtual time: its result, or its error raised as it is."""
    result: list[Any] = []
    error: list[Exception] = []
    async with anyio.create_task_group() as group:
        group.start_soon(clock.drive)

        async def go() -> None:
            try:
                result.append(await work())
            except Exception as exc:
                error.append(exc)
            finally:
                group.cancel_scope.cancel()

        group.start_soon(go)
    if error:
        raise error[0]
    return result[0]


def _campaign(records: int) -> Callable[[str], bytes]:
    def answer(target: str) -> bytes:
        offset = int(target.split("offset=")[1].split("&")[0])
        rows = [
            {"record_id": 100 + i, "customer_id": i + 1}
            for i in range(offset, min(offset + 100, records))
        ]
        return _body(records, rows)

    return answer


@pytest.mark.anyio
async def test_a_pass_pages_by_offset_until_the_count_at_the_rate() -> None:
    clock = VirtualTime()
    getter = ScriptedGetter(_campaign(250))
    lister = _lister(getter, clock, rate=2.0, rate_burst=1)

    async def work() -> list[int]:
        return [p.offset async for p in lister.pages(CUSTOMERS, "00001", None)]

    assert await _run(clock, work) == [0, 100, 200]
    assert lister.requests == 3
    # three GETs at 2 per second, less the adaptive rate's 1% headroom
    assert clock.now == pytest.approx(1.0 / 0.99)


@pytest.mark.anyio
async def test_transient_failures_are_retried_and_retry_after_is_honoured() -> None:
    clock = VirtualTime()
    script: list[Exception] = [
        ThrottledError("429", status=429, retry_after=7.0),
        ServerError("502", status=502),
    ]

    def answer(target: str) -> bytes | Exception:
        return script.pop(0) if script else _body(0, [])

    lister = _lister(ScriptedGetter(answer), clock)
    page = await _run(clock, lambda: lister.page(CUSTOMERS, "00001", None, 0))
    assert page.count == 0
    assert clock.now >= 7.0
    assert lister.errors == {"ThrottledError": 1, "ServerError": 1}


@pytest.mark.anyio
async def test_a_bad_body_is_tried_again() -> None:
    clock = VirtualTime()
    bodies = [b"<html>gateway</html>", _body(0, [])]
    lister = _lister(ScriptedGetter(lambda _: bodies.pop(0)), clock)
    page = await _run(clock, lambda: lister.page(CUSTOMERS, "00001", None, 0))
    assert page.count == 0 and lister.errors == {"BadAnswerError": 1}


@pytest.mark.anyio
async def test_tries_used_up_fail_the_listing_resumably() -> None:
    clock = VirtualTime()
    getter = ScriptedGetter(lambda _: ServerError("503", status=503))
    lister = _lister(getter, clock, max_attempts=3)
    with pytest.raises(ListingFailedError, match="gave up after 3 tries") as caught:
        await _run(clock, lambda: lister.page(CUSTOMERS, "00001", None, 0))
    assert caught.value.resumable and len(getter.asked) == 3


@pytest.mark.anyio
async def test_a_refused_get_stops_at_once_and_a_fatal_one_passes_through() -> None:
    clock = VirtualTime()
    refused = ScriptedGetter(lambda _: BatchRejectedError("HTTP 400: bad filter", status=400))
    with pytest.raises(ListingRefusedError, match="bad filter"):
        await _run(clock, lambda: _lister(refused, clock).page(CUSTOMERS, "00001", None, 0))
    assert len(refused.asked) == 1
    denied = ScriptedGetter(lambda _: AuthenticationError("HTTP 401", status=401))
    with pytest.raises(AuthenticationError):
        await _run(clock, lambda: _lister(denied, clock).page(CUSTOMERS, "00001", None, 0))


@pytest.mark.anyio
async def test_one_record_or_none_when_absent() -> None:
    clock = VirtualTime()

    def answer(target: str) -> bytes | None:
        if target.endswith("/441"):
            return orjson.dumps({"record_id": 9, "customer_id": 441, "system_status": "CALL"})
        return None

    lister = _lister(ScriptedGetter(answer), clock)
    record = await _run(clock, lambda: lister.record("00001", 441))
    assert (record.record_id, record.key) == (9, 441)
    assert await _run(clock, lambda: lister.record("00001", 442)) is None


def test_filters_compare_by_value() -> None:
    assert Filters([("system_status", "NO_CALL")]) == parse_filters("system_status=no_call")
    assert Filters([("system_status", "NO_CALL")]) != parse_filters("system_status=CALL")


# --- over loopback, against the sandbox --------------------------------------------------


def test_the_client_lists_and_reads_one_record_from_the_sandbox(tmp_path: Path) -> None:
    from bulkremove.client import Client

    rows = [{"customer_id": 500 + i, "system_status": "NO_CALL" if i % 2 else "CALL"}
            for i in range(1, 151)]  # fmt: skip
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", rows)
    with sandbox("--records", str(seed)) as server:
        settings = Settings(
            base_url=server.base_url, username="api_user", password=PASSWORD, rate=100.0
        )

        async def work() -> tuple[list[int], Any, Any]:
            async with Client(settings) as client:
                lister = Lister(client, settings)
                filters = parse_filters("system_status=NO_CALL")
                counts = [p.count async for p in lister.pages(CUSTOMERS, "00001", filters)]
                listed = [r async for p in lister.pages(CUSTOMERS, "00001", filters)
                          for r in p.records]  # fmt: skip
                assert [r.key for r in listed] == list(range(501, 651, 2))
                one = await lister.record("00001", 503)
                gone = await lister.record("00001", 502 + 1000)
                with pytest.raises(CampaignNotFoundError, match="GET"):
                    await lister.page(CUSTOMERS, "00009", None, 0)
                return counts, one, gone

        counts, one, gone = anyio.run(work)
        assert server.stats()["gets"] >= 4  # two pages, two records
    assert counts == [75]
    assert one.key == 503 and one.system_status == "NO_CALL" and one.fields["status"]
    assert gone is None


@pytest.mark.anyio
async def test_one_lister_serves_many_tasks_at_once() -> None:
    clock = VirtualTime()
    failed: set[str] = set()

    class Slow(ScriptedGetter):
        async def get(self, target: str, *, absent: bool = False) -> bytes | None:
            await clock.sleep(0.05)  # answers overlap: every task is inside a GET at once
            return await super().get(target, absent=absent)

    def answer(target: str) -> bytes | Exception | None:
        if target not in failed:  # each target's first try fails, then is retried
            failed.add(target)
            return ServerError("502", status=502)
        if "?" in target:
            return _campaign(250)(target)
        customer = int(target.rsplit("/", 1)[1])
        row = {"record_id": customer + 100, "customer_id": customer}
        return orjson.dumps(row) if customer % 2 else None

    getter = Slow(answer)
    lister = _lister(getter, clock, rate=20.0, rate_burst=2, max_attempts=3)
    found: dict[int, Any] = {}

    async def one(customer: int) -> None:
        found[customer] = await lister.record("00001", customer)

    async def work() -> list[int]:
        offsets: list[int] = []
        async with anyio.create_task_group() as group:
            for customer in range(1, 9):
                group.start_soon(one, customer)
            offsets.extend([p.offset async for p in lister.pages(CUSTOMERS, "00001", None)])
        return offsets

    assert await _run(clock, work) == [0, 100, 200]
    assert {c: r and (r.record_id, r.key) for c, r in found.items()} == {
        c: (c + 100, c) if c % 2 else None for c in range(1, 9)
    }
    gets = 8 + 3
    assert lister.requests == len(getter.asked) == 2 * gets
    assert lister.errors == {"ServerError": gets}
    assert clock.now >= (2 * gets - 2) / 20.0  # the shared limiter held every task to the rate
