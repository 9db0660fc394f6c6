"""The engine's decisions, without sockets: an in-memory store, a scripted sender, a fake clock.

The engine runs for real (its task group, stream and workers); only its two seams are fakes.
The clock moves when something sleeps on it, by as much as it sleeps, so waits of minutes
take no real time and every run ends.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from virtual_time import VirtualTime

from bulkremove.answers import CALL_IN_PROGRESS, NOT_EXIST, REMOVED, Outcome
from bulkremove.batching import records_path, target_length
from bulkremove.engine import Engine, Pages, Sender, Store
from bulkremove.engine.send import UrlBudget
from bulkremove.engine.writer import OutcomeWriter
from bulkremove.errors import (
    ApiError,
    AuthenticationError,
    BadAnswerError,
    BatchRejectedError,
    CampaignNotFoundError,
    ConnectionLostError,
    FatalApiError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    UrlTooLongError,
)
from bulkremove.journal import OutcomeGroup
from bulkremove.settings import Settings

pytestmark = pytest.mark.anyio

EPOCH = 1_700_000_000.0


class MemoryStore:
    """The journal as the engine sees it: pending pages in, outcome groups out."""

    path = Path("memory")

    def __init__(self, records: Mapping[str, Sequence[int]]) -> None:
        self.state = {(c, i): "pending" for c, ids in records.items() for i in ids}
        self.lost: set[tuple[str, int]] = set()
        self.detail: dict[tuple[str, int], str] = {}
        self.record_id: dict[tuple[str, int], int | None] = {}
        self.history: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.commits = 0
        self.sent_up_to: dict[str, int] = {}
        self.marks = 0

    def open(self, path: Path) -> Pages:
        assert path == self.path
        return self

    def close(self) -> None:
        pass

    def campaigns(self) -> list[str]:
        return sorted({c for (c, _), state in self.state.items() if state == "pending"})

    def pending_page(self, campaign: str, after: int, limit: int) -> list[int]:
        ids = sorted(
            i for (c, i), state in self.state.items() if c == campaign and state == "pending"
        )
        return [i for i in ids if i > after][:limit]

    def record_groups(self, groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        self.commits += 1
        by_state: Counter[str] = Counter()
        for group in groups:
            record_ids = group.record_ids or [None] * len(group.ids)
            for customer_id, record_id in zip(group.ids, record_ids, strict=True):
                key = (group.campaign, customer_id)
                assert key in self.state, f"not a record of the store: {key}"
                self.state[key] = group.state
                self.history[key].append(group.state)
                if group.answer_lost:
                    self.lost.add(key)
                if group.detail is not None:
                    self.detail[key] = group.detail
                if record_id is not None:
                    self.record_id[key] = record_id
                by_state[group.state] += 1
        return dict(by_state)

    def mark_sent(self, campaign: str, up_to: int) -> None:
        assert up_to >= self.sent_up_to.get(campaign, 0), "marks only move forward"
        self.sent_up_to[campaign] = up_to
        self.marks += 1

    def clear_sent(self) -> None:
        self.sent_up_to.clear()

    def states(self) -> Counter[str]:
        return Counter(self.state.values())


Script = Callable[["ScriptedSender", str, list[int]], "Exception | None"]
"""Called before each request is answered: an exception to raise instead, or None."""


@dataclass
class ScriptedSender:
    """A server in memory: removes what it holds, unless the script or a call says otherwise."""

    clock: VirtualTime
    records: set[tuple[str, int]]
    script: Script | None = None
    in_call_until: dict[int, float] = field(default_factory=dict)
    """Ids in a call until this clock time (inf: for good)."""
    max_target: int | None = None
    """Request-targets longer than this are refused with a 414."""
    requests: list[tuple[float, str, list[int]]] = field(default_factory=list)
    removed: Counter[tuple[str, int]] = field(default_factory=Counter)

    def path(self, campaign: str) -> str:
        return records_path("/api", campaign)

    def tries(self, customer_id: int, campaign: str = "00001") -> list[float]:
        return [at for at, c, ids in self.requests if c == campaign and customer_id in ids]

    async def delete_batch(self, campaign: str, ids: Sequence[int]) -> list[Outcome]:
        ids = list(ids)
        self.requests.append((self.clock.now, campaign, ids))
        await anyio.lowlevel.checkpoint()
        if self.max_target is not None and target_length(self.path(campaign), ids) > (
            self.max_target
        ):
            raise UrlTooLongError("HTTP 414", status=414)
        error = self.script(self, campaign, ids) if self.script else None
        if error is not None and not carried_out(error):
            raise error
        outcomes = []
        for customer_id in ids:
            key = (campaign, customer_id)
            if self.in_call_until.get(customer_id, -1.0) > self.clock.now:
                outcomes.append(Outcome(customer_id, CALL_IN_PROGRESS, None, None))
            elif key in self.records:
                self.records.discard(key)
                self.removed[key] += 1
                outcomes.append(Outcome(customer_id, REMOVED, 7_000_000 + customer_id, None))
            else:
                outcomes.append(Outcome(customer_id, NOT_EXIST, None, None))
        if error is not None:
            raise error  # carried out, but the answer was lost on the way back
        return outcomes


def carried_out(error: Exception) -> bool:
    """Whether the scripted server removes the records before failing with ``error``.

    By default, when the engine must assume so; :func:`not_carried_out` says otherwise.
    """
    return bool(getattr(error, "carried_out", getattr(error, "answer_lost", False)))


def not_carried_out(error: ApiError) -> ApiError:
    """``error``, raised by the scripted server before it removes anything."""
    error.carried_out = False  # type: ignore[attr-defined]
    return error


def settings(**changes: object) -> Settings:
    values: dict[str, object] = dict(
        concurrency=4,
        rate=1000.0,
        rate_burst=50,
        adaptive=False,
        max_ids_per_request=25,
        call_retry_timeout=60.0,
        call_retry_initial=5.0,
        call_retry_max=20.0,
        max_attempts=4,
        retry_initial=0.5,
        retry_max=4.0,
    )
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Rig:
    clock: VirtualTime
    store: MemoryStore
    sender: ScriptedSender
    engine: Engine


def rig(
    records: Mapping[str, Sequence[int]],
    *,
    script: Script | None = None,
    sender_type: type[ScriptedSender] = ScriptedSender,
    **changes: object,
) -> Rig:
    clock = VirtualTime(turns=10)
    store = MemoryStore(records)
    sender = sender_type(clock, set(store.state), script)
    engine = Engine(
        settings(**changes),
        store,
        sender,
        clock=clock,
        wall_clock=lambda: EPOCH + clock.now,
        sleep=clock.sleep,
        rng=random.Random(7),
    )
    return Rig(clock, store, sender, engine)


async def run(r: Rig) -> None:
    with anyio.fail_after(30):  # real seconds: a run that hangs is a failure, not a stuck suite
        async with anyio.create_task_group() as group:
            group.start_soon(r.clock.drive)
            try:
                await r.engine.run()
            finally:
                group.cancel_scope.cancel()


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def test_the_fakes_satisfy_the_protocols() -> None:
    clock = VirtualTime(turns=10)
    store: Store = MemoryStore({"00001": [1]})
    sender: Sender = ScriptedSender(clock, set())
    assert store.campaigns() == ["00001"] and sender.path("00001").endswith("/records")


async def test_every_id_sent_once_in_full_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    import bulkremove.engine

    # pages smaller than a batch, so batches span page boundaries and reads ahead
    monkeypatch.setattr(bulkremove.engine, "PAGE_SIZE", 11)
    monkeypatch.setattr(bulkremove.engine, "READ_AHEAD", 30)
    records = {"00001": range(1, 1001), "00002": range(5000, 5301), "00003": [42]}
    r = rig(records)
    await run(r)
    sent = Counter((c, i) for _, c, ids in r.sender.requests for i in ids)
    assert set(sent) == set(r.store.state) and set(sent.values()) == {1}
    by_campaign: dict[str, list[int]] = defaultdict(list)
    for _, campaign, ids in r.sender.requests:
        by_campaign[campaign].append(len(ids))
        assert ids == sorted(ids)
    # every batch full but each campaign's last one
    assert by_campaign == {"00001": [25] * 40, "00002": [25] * 12 + [1], "00003": [1]}
    assert r.store.states() == {"removed": 1302}
    assert r.store.record_id[("00002", 5000)] == 7_005_000
    stats = r.engine.stats
    assert stats.requests == stats.batches == 54 and stats.by_error == {}
    assert stats.committed == {"removed": 1302}


async def test_in_call_retried_until_the_call_ends() -> None:
    r = rig({"00001": range(1, 101)})
    r.sender.in_call_until = {7: 12.0, 8: 30.0}
    await run(r)
    assert r.store.states() == {"removed": 100}
    assert r.store.history[("00001", 7)][0] == "in_call"
    assert r.store.history[("00001", 7)][-1] == "removed"
    tries = r.sender.tries(8)
    assert len(tries) >= 3 and tries[-1] >= 30.0
    assert all(b - a >= 2.5 for a, b in itertools.pairwise(tries)), "backed off"
    assert r.engine.waiting_on_calls == 0
    # a retry is a share of a request, not one of its own: the two ids went together
    assert any(7 in ids and 8 in ids for _, _, ids in r.sender.requests[4:])


async def test_in_call_until_the_deadline_ends_in_call() -> None:
    r = rig({"00001": range(1, 51)}, call_retry_timeout=60.0)
    r.sender.in_call_until = {3: float("inf"), 44: float("inf")}
    await run(r)
    assert r.store.states() == {"removed": 48, "in_call": 2}
    for customer_id in (3, 44):
        tries = r.sender.tries(customer_id)
        # tried until its deadline, the last try right at it, and then left alone
        assert tries[-1] - tries[0] >= 60.0
        assert tries[-2] - tries[0] < 60.0 + 1.0
        assert 4 <= len(tries) <= 2 + 60.0 / 5.0
    assert r.engine.waiting_on_calls == 0


async def test_a_414_halves_the_budget_and_every_id_still_goes() -> None:
    ids = range(10_000_000, 10_001_000)
    r = rig({"00001": ids}, max_ids_per_request=500, max_url_length=8000, concurrency=2)
    r.sender.max_target = 1500
    await run(r)
    assert r.store.states() == {"removed": 1000}
    assert set(r.sender.removed.values()) == {1}
    path = r.sender.path("00001")
    assert r.engine.budget.limit <= 1500
    assert r.engine.budget.limit > 1500 // 4, "halving, not worse"
    # one 414 per halving, and a few for batches packed before the budget came down
    assert 2 <= r.engine.stats.by_error["UrlTooLongError"] <= 6
    refused = [k for k, (_, c, s) in enumerate(r.sender.requests) if target_length(path, s) > 1500]
    assert len(refused) == r.engine.stats.by_error["UrlTooLongError"]


async def test_a_414_for_a_single_id_stops_the_run() -> None:
    r = rig({"00001": range(1, 40)})
    r.sender.max_target = 10
    with pytest.raises(ExceptionGroup) as caught:
        await run(r)
    # Pieces in flight at once may each find that no id fits: every error says so.
    errors = [e for e in leaves(caught.value) if isinstance(e, ApiError)]
    assert errors
    for error in errors:
        assert isinstance(error, FatalApiError) and "not even one id fits" in str(error)
    assert "removed" not in r.store.states()


async def test_transient_errors_are_retried_then_the_batch_goes_through() -> None:
    failures: Counter[int] = Counter()

    def flaky(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        failures[ids[0]] += 1
        if failures[ids[0]] <= 2:
            return not_carried_out(ServerError("HTTP 503", status=503))
        return None

    r = rig({"00001": range(1, 101)}, script=flaky)
    await run(r)
    assert r.store.states() == {"removed": 100}
    assert r.engine.stats.by_error == {"ServerError": 8}
    assert r.engine.stats.requests == 12
    # tries without an answer are counted in the journal, the records staying pending
    assert r.store.history[("00001", 1)] == ["pending", "pending", "removed"]


async def test_transient_errors_fail_the_batch_after_max_attempts() -> None:
    def broken(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        return ServerError("HTTP 500", status=500) if campaign == "00002" else None

    r = rig({"00001": range(1, 31), "00002": range(1, 11)}, script=broken, max_attempts=3)
    await run(r)
    assert r.store.states() == {"removed": 30, "failed": 10}
    assert r.store.detail[("00002", 4)].startswith("gave up after 3 tries: HTTP 500")
    assert len(r.sender.tries(4, "00002")) == 3
    assert r.engine.stats.by_error == {"ServerError": 3}


async def test_a_rejected_batch_fails_and_the_run_goes_on() -> None:
    def rejecting(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        return BatchRejectedError("HTTP 400: bad ids", status=400) if 30 in ids else None

    r = rig({"00001": range(1, 101)}, script=rejecting)
    await run(r)
    assert r.store.states() == {"removed": 75, "failed": 25}
    assert r.store.detail[("00001", 30)] == "rejected: HTTP 400: bad ids"


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("HTTP 401", status=401),
        PermissionDeniedError("HTTP 403", status=403),
        CampaignNotFoundError("HTTP 404: unknown campaign", status=404),
    ],
)
async def test_a_fatal_error_stops_the_run(error: FatalApiError) -> None:
    r = rig({"00001": range(1, 1001)}, script=lambda *_: error, concurrency=1)
    with pytest.raises(ExceptionGroup) as caught:
        await run(r)
    assert error in leaves(caught.value)
    assert r.engine.stats.requests == 1
    assert r.engine.stats.aborted == str(error)
    assert r.store.states() == {"pending": 1000}


@pytest.mark.parametrize(
    "lost",
    [
        RequestTimeoutError("no answer within 30 s"),
        ConnectionLostError("reset", answer_lost=True),
        ServerError("HTTP 500", status=500),
        ServerError("HTTP 502: <html>Bad Gateway</html>", status=502),
        ServerError("HTTP 504", status=504),
        BadAnswerError("answer is not JSON: '<html>'", status=200),
        BadAnswerError('answer is not JSON: \'{"5": {"st\'', status=207),
    ],
)
async def test_not_exist_after_a_lost_answer_is_flagged(lost: ApiError) -> None:
    def losing(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        return lost if 5 in ids and len(sender.tries(5)) == 1 else None

    r = rig({"00001": range(1, 51)}, script=losing)
    await run(r)
    # the first try removed them, and its answer never came: the second says NOT_EXIST
    assert r.store.states() == {"removed": 25, "not_found": 25}
    first = set(r.sender.requests[0][2]) if 5 in r.sender.requests[0][2] else set(range(1, 26))
    assert {i for (_, i), s in r.store.state.items() if s == "not_found"} == first
    assert {i for _, i in r.store.lost} == first
    assert not r.store.detail


async def test_records_failed_after_an_unreadable_answer_carry_the_flag() -> None:
    gateway = ServerError("HTTP 502: <html>Bad Gateway</html>", status=502)
    r = rig({"00001": range(1, 11)}, script=lambda *_: gateway, max_attempts=2)
    await run(r)
    assert r.store.states() == {"failed": 10}
    assert {i for _, i in r.store.lost} == set(range(1, 11)), "the gateway may have removed them"


@pytest.mark.parametrize(
    "refused",
    [ServerError("HTTP 408", status=408), ThrottledError("HTTP 429", status=429)],
)
async def test_an_answer_that_says_nothing_was_done_is_not_a_lost_answer(
    refused: ApiError,
) -> None:
    def once(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        return refused if len(sender.requests) == 1 else None

    r = rig({"00001": range(1, 11)}, script=once)
    await run(r)
    assert r.store.states() == {"removed": 10} and not r.store.lost


async def test_a_connection_refused_before_sending_is_not_a_lost_answer() -> None:
    def refused(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        if len(sender.requests) == 1:
            return ConnectionLostError("refused", answer_lost=False)
        return None

    r = rig({"00001": range(1, 11)}, script=refused)
    await run(r)
    assert r.store.states() == {"removed": 10} and not r.store.lost


async def test_every_id_is_marked_sent_before_its_request_goes_out() -> None:
    marks: list[int] = []

    def check(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        marks.append(store.sent_up_to.get(campaign, 0))
        assert max(ids) <= marks[-1], "sent before the journal knew"
        return None

    r = rig({"00001": range(1, 201), "00002": range(1, 51)}, script=check)
    store = r.store
    await run(r)
    assert r.store.states() == {"removed": 250} and len(marks) == 10
    assert r.store.marks <= 4, "marked a few batches ahead, not once per request"
    assert r.store.sent_up_to == {}, "a run that ended with nothing in flight leaves no mark"


async def test_a_run_that_ends_in_an_error_keeps_its_marks() -> None:
    r = rig({"00001": range(1, 101)}, script=lambda *_: AuthenticationError("HTTP 401"))
    with pytest.raises(ExceptionGroup):
        await run(r)
    assert r.store.sent_up_to["00001"] >= 25


async def test_stop_sends_nothing_more_and_leaves_the_rest_pending() -> None:
    stopping: list[Engine] = []

    def stop_after_three(sender: ScriptedSender, campaign: str, ids: list[int]) -> None:
        if len(sender.requests) == 3:
            stopping[0].stop()

    r = rig({"00001": range(1, 1001)}, script=stop_after_three, concurrency=1)
    stopping.append(r.engine)
    await run(r)
    assert r.engine.stats.requests == 3
    assert r.store.states() == {"removed": 75, "pending": 925}
    assert r.store.sent_up_to == {}, "every request sent had its answer: nothing to flag"


async def test_retry_after_pauses_every_worker() -> None:
    def throttled(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        if len(sender.requests) == 2:
            return not_carried_out(ServerError("HTTP 503", status=503, retry_after=40.0))
        return None

    r = rig({"00001": range(1, 201)}, script=throttled, concurrency=2)
    await run(r)
    assert r.store.states() == {"removed": 200}
    times = [at for at, _, _ in r.sender.requests]
    throttled_at = times[1]
    assert all(at < throttled_at + 1e-9 or at >= throttled_at + 40.0 for at in times[2:])


async def test_a_commit_under_way_is_not_lost_to_the_end_of_the_run() -> None:
    committed: list[OutcomeGroup] = []
    started, release = anyio.Event(), anyio.Event()

    async def commit(groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        started.set()
        await release.wait()
        committed.extend(groups)
        return {"removed": sum(len(group.ids) for group in groups)}

    writer = OutcomeWriter(commit, clock=VirtualTime(turns=10), sleep=anyio.sleep, committed={})
    group = OutcomeGroup("00001", [1, 2, 3], "removed", EPOCH)
    writer.record([group])
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(writer.flush)
        await started.wait()
        tasks.cancel_scope.cancel()  # what the end of a run does to the writer's loop
        release.set()
    assert committed == [group] and writer.committed == {"removed": 3}


def test_the_budget_halves_on_a_refusal_and_stands_for_one_sized_before() -> None:
    path, error = records_path("/api", "00001"), UrlTooLongError("HTTP 414", status=414)
    budget = UrlBudget(8000)
    assert budget.refused(path, 7990, error) == 3995 and budget.limit == 3995
    assert budget.refused(path, 7990, error) == 3995, "another worker's 414 already lowered it"
    assert budget.refused(path, 3000, error) == 1500 and budget.limit == 1500
    with pytest.raises(FatalApiError, match="not even one id fits"):
        UrlBudget(8000).refused(path, 60, error)


async def test_connections_refused_in_a_row_end_the_run_as_server_down() -> None:
    from bulkremove.errors import CannotConnectError, ServerDownError

    def down(*_: object) -> Exception:
        return CannotConnectError("could not connect to http://x: Connection refused")

    r = rig({"00001": range(1, 10_001)}, script=down, max_attempts=8, retry_max=30.0)
    with pytest.raises(ExceptionGroup) as caught:
        await run(r)
    ended = [e for e in leaves(caught.value) if isinstance(e, ServerDownError)]
    assert ended, caught.value
    assert "Connection refused" in str(ended[0])
    # Ended after about DOWN_AFTER_S of refusals, not after every batch used up its tries.
    assert r.clock.now < 30
    assert r.store.states() == {"pending": 10_000}


async def test_an_answer_between_refusals_keeps_the_run_going() -> None:
    from bulkremove.errors import CannotConnectError

    def flaky(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception | None:
        if len(sender.requests) % 2:
            return CannotConnectError("could not connect to http://x: Connection refused")
        return None

    r = rig({"00001": range(1, 2001)}, script=flaky, concurrency=1, retry_max=0.5)
    await run(r)
    assert r.store.states() == {"removed": 2000}


async def test_a_fatal_error_in_every_worker_at_once_is_the_only_error() -> None:
    error = AuthenticationError("HTTP 401", status=401)
    r = rig({"00001": range(1, 20_001)}, script=lambda *_: error, concurrency=4)
    with pytest.raises(ExceptionGroup) as caught:
        await run(r)
    assert all(isinstance(e, AuthenticationError) for e in leaves(caught.value)), caught.value
    assert r.store.states() == {"pending": 20_000}
