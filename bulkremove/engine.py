"""The removal engine: one task group owning the batcher, the workers and the journal writer.

    journal ──pages──► batcher ──bounded stream──► N workers ──► API
                          ▲                          │
                          └── retry scheduler ◄──────┤ CALL_IN_PROGRESS
                                                     └──► outcome buffer ──► journal (group commit)

The run is over when the journal has no more pending ids to hand out, no batch is in flight,
and the scheduler is empty; only then does the batcher close the stream. Retries feed back into
the batcher, so the stream cannot be closed earlier.

Memory is bounded by the concurrency and the page size, not by the number of records: fresh ids
come from the journal a page at a time, and outcomes are committed a few times a second.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkremove.answers import CALL_IN_PROGRESS, NOT_EXIST, REMOVED, Outcome, Outcomes
from bulkremove.backoff import Backoff, retry_after_delay
from bulkremove.batching import Packer, check_budget, pack, target_length
from bulkremove.client import Client
from bulkremove.errors import (
    BatchRejectedError,
    ConfigError,
    FatalApiError,
    RequestTimeoutError,
    ThrottledError,
    TransientApiError,
    UrlTooLongError,
)
from bulkremove.journal import Journal, OutcomeGroup
from bulkremove.limiter import RateLimiter
from bulkremove.logs import get_logger
from bulkremove.pacing import AdaptiveRate
from bulkremove.scheduler import RetryScheduler, next_call_retry
from bulkremove.settings import Settings

PAGE_SIZE = 20_000
"""Fresh ids read from the journal at a time."""
READ_AHEAD = PAGE_SIZE // 2
"""Fresh ids at hand below which the next page is read, while the batcher goes on."""
COMMIT_INTERVAL = 0.2
"""Seconds between group commits of outcomes."""
MAX_BUFFERED = 150_000
"""Outcomes waiting for a commit before workers wait for the writer."""
RETRY_COALESCE = 1.0
"""A retry batch without fresh ids takes along ids due within this many seconds, early."""
BUDGET_SHRINK = 0.5
"""After a 414 the byte budget becomes this share of the refused request-target's length.
Halving finds the usual power-of-two limits of front servers (4 KiB, 2 KiB) in one or two steps."""


class _FreshIds:
    """Fresh ids at hand, ascending: a list and how many of them were handed out.

    Handing ids out moves an index, not the ids: no pop per id.
    """

    __slots__ = ("_ids", "_taken")

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._taken = 0

    def __len__(self) -> int:
        return len(self._ids) - self._taken

    def extend(self, page: list[int]) -> None:
        if self._taken:
            del self._ids[: self._taken]
            self._taken = 0
        self._ids.extend(page)

    def take_into(self, packer: Packer) -> None:
        """Add to ``packer`` as many of the next ids as fit."""
        self._taken += packer.add_many(self._ids, self._taken)


@dataclass(slots=True)
class Batch:
    """One request's worth of ids of one campaign."""

    campaign: str
    ids: list[int]
    calls: dict[int, tuple[float, int]] = field(default_factory=dict)
    """For ids retried after CALL_IN_PROGRESS: (first such answer, monotonic; retries so far)."""
    lost: bool = False
    """An earlier try of this batch lost its answer, so a NOT_EXIST may be our own removal."""
    run: bool = False
    """Fresh ids only: consecutive pending ids of the campaign, ascending (see OutcomeGroup)."""
    budget: int | None = None
    """The byte budget it was packed under; None: unknown, measure it before sending."""


@dataclass(slots=True)
class EngineStats:
    """What the engine did, for the report and the log."""

    requests: int = 0
    batches: int = 0
    by_error: dict[str, int] = field(default_factory=dict)
    budget: int = 0
    rate: float = 0.0
    """The sending rate in force (requests per second)."""
    aborted: str | None = None
    committed: dict[str, int] = field(default_factory=dict)
    """Outcomes committed to the journal, by the state they gave (for progress)."""


class Engine:
    """Removes every pending record of a journal. Call :meth:`run` once."""

    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        client: Client,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._journal = journal
        self._client = client
        self._clock = clock
        self._wall = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(settings.rate, settings.rate_burst, clock=clock, sleep=sleep)
        self._pacer = (
            AdaptiveRate(settings.rate, min(settings.min_rate, settings.rate))
            if settings.adaptive
            else None
        )
        self._scheduler = RetryScheduler()
        self._call_backoff = Backoff(settings.call_retry_initial, settings.call_retry_max)
        self._batch_backoff = Backoff(settings.retry_initial, settings.retry_max)
        self._db = anyio.CapacityLimiter(1)  # one thread at a time on the journal
        # Fresh ids are read through a read-only connection of their own, so that a page is
        # never queued behind a commit of outcomes (WAL lets it read meanwhile).
        self._pages: Journal | None = None
        self._pages_lock = anyio.CapacityLimiter(1)
        self._log = get_logger("engine")
        self.stats = EngineStats(budget=settings.max_url_length, rate=settings.rate)
        # Accounting that decides the end of the run.
        self._in_flight = 0
        self._fresh_exhausted = False
        self._stopping = False
        self._changed: anyio.Event | None = None  # what the batcher waits on, while it waits
        # Fresh ids, one campaign at a time.
        self._campaigns: deque[str] = deque()
        self._fresh = _FreshIds()
        self._fresh_campaign: str | None = None
        self._after = 0
        self._reading: anyio.Event | None = None  # while a page is read ahead; set once it is in
        self._work: TaskGroup | None = None
        self._packers: dict[str, Packer] = {}
        # Outcomes waiting for the next group commit: a group per answer, and the ids in them.
        self._buffer: list[OutcomeGroup] = []
        self._buffered = 0
        self._flushed = anyio.Event()

    # --- the run --------------------------------------------------------------------------

    async def run(self) -> EngineStats:
        """Send until every pending record has a final state for this run, then commit."""
        for campaign in await self._db_call(self._journal.campaigns):
            check_budget(self._client.path(campaign), self.stats.budget)
            self._campaigns.append(campaign)
        self._pages = await anyio.to_thread.run_sync(Journal.open, self._journal.path)
        try:
            async with anyio.create_task_group() as outer:
                outer.start_soon(self._commit_loop)
                async with anyio.create_task_group() as work:
                    self._work = work
                    send, receive = anyio.create_memory_object_stream[Batch](
                        self._settings.concurrency
                    )
                    work.start_soon(self._batcher, send)
                    for _ in range(self._settings.concurrency):
                        work.start_soon(self._worker, receive.clone())
                    receive.close()
                outer.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._flush()
                await anyio.to_thread.run_sync(self._pages.close, limiter=self._pages_lock)
        return self.stats

    @property
    def waiting_on_calls(self) -> int:
        """Ids held for a retry because they were in a call (read-only, for progress)."""
        return len(self._scheduler)

    @property
    def rate(self) -> float | None:
        """The sending rate in force, requests per second; None when unlimited."""
        return self._limiter.rate

    def stop(self) -> None:
        """Stop handing out batches; requests in flight go on to their answers.

        Ids not yet sent, and ids waiting for a retry, keep their journal state for a resume.
        """
        self._stopping = True
        self._notify()

    async def _db_call(self, func: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(func, *args, limiter=self._db)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    # --- the batcher ----------------------------------------------------------------------

    async def _batcher(self, send: MemoryObjectSendStream[Batch]) -> None:
        async with send:
            while not self._stopping:
                batch = await self._next_batch()
                if batch is not None:
                    self._in_flight += 1
                    self.stats.batches += 1
                    # Fill the queue without a turn of the event loop per batch: taking a
                    # turn each (what send() does first) left workers waiting for batches.
                    try:
                        send.send_nowait(batch)
                    except anyio.WouldBlock:
                        await send.send(batch)
                    continue
                if self._fresh_exhausted and self._in_flight == 0 and not self._scheduler:
                    return
                # made only when needed: one per batch sent was a measurable cost
                changed = self._changed = anyio.Event()
                next_due = self._scheduler.next_due()
                wait = math.inf if next_due is None else next_due - self._clock()
                with anyio.move_on_after(max(0.0, wait)):
                    await changed.wait()
                self._changed = None

    def _packer(self, campaign: str) -> Packer:
        packer = self._packers.get(campaign)
        if packer is None:
            packer = Packer(
                self._client.path(campaign),
                self.stats.budget,
                self._settings.max_ids_per_request,
            )
            self._packers[campaign] = packer
        elif packer.budget > self.stats.budget:
            packer.lower_budget(self.stats.budget)
        return packer

    async def _next_batch(self) -> Batch | None:
        """The next batch: due retries first, filled up with fresh ids of the same campaign."""
        await self._refill()
        now = self._clock()
        campaign = self._scheduler.due_campaign(now)
        horizon = now
        if campaign is None:
            campaign = self._fresh_campaign
            if campaign is None or not self._fresh:
                return None
        elif campaign != self._fresh_campaign:
            # No fresh ids to fill up with: take along ids that come due soon.
            horizon = now + RETRY_COALESCE
        packer = self._packer(campaign)
        batch = Batch(campaign, [])
        while not packer.full:
            due = self._scheduler.pop_due(horizon, campaign=campaign, limit=1)
            if not due:
                break
            entry = due[0]
            if not packer.add(entry.customer_id):
                self._scheduler.schedule(
                    campaign, entry.customer_id, entry.due, entry.first_call_at, entry.retries
                )
                break
            batch.calls[entry.customer_id] = (entry.first_call_at, entry.retries)
        if campaign == self._fresh_campaign and self._fresh and not packer.full:
            self._fresh.take_into(packer)
        batch.ids = packer.take()
        batch.run = not batch.calls
        batch.budget = packer.budget
        return batch if batch.ids else None

    async def _refill(self) -> None:
        """Keep fresh ids of the current campaign at hand, a page at a time.

        The next page is read on a task of its own once fewer than ``READ_AHEAD`` ids are at
        hand, so that the batcher never waits for it while there are ids to send (waiting
        emptied the workers' queue once a page). ``_after`` -1: the campaign has no more.
        """
        while len(self._fresh) < self._settings.max_ids_per_request and not self._fresh_exhausted:
            if self._reading is not None:
                await self._reading.wait()  # the page read ahead comes first
                continue
            if self._fresh_campaign is not None and self._after == -1:
                if self._fresh:
                    return  # the campaign's last ids go out before the next campaign's
                self._fresh_campaign = None
            if self._fresh_campaign is None:
                if not self._campaigns:
                    self._fresh_exhausted = True
                    return
                self._fresh_campaign = self._campaigns.popleft()
                self._after = 0
            await self._read_page()
        if (
            self._reading is None
            and self._fresh_campaign is not None
            and self._after != -1
            and len(self._fresh) < READ_AHEAD
            and self._work is not None
        ):
            self._reading = anyio.Event()
            self._work.start_soon(self._read_ahead)

    async def _read_ahead(self) -> None:
        try:
            await self._read_page()
        finally:
            reading, self._reading = self._reading, None
            if reading is not None:
                reading.set()
            self._notify()

    async def _read_page(self) -> None:
        """Append the current campaign's next page of pending ids to the ids at hand."""
        assert self._pages is not None and self._fresh_campaign is not None  # set by run()
        page: list[int] = await anyio.to_thread.run_sync(
            self._pages.pending_page,
            self._fresh_campaign,
            self._after,
            PAGE_SIZE,
            limiter=self._pages_lock,
        )
        if page:
            self._fresh.extend(page)
            self._after = page[-1]
        else:
            self._after = -1

    # --- the workers ----------------------------------------------------------------------

    async def _worker(self, receive: MemoryObjectReceiveStream[Batch]) -> None:
        async with receive:
            while True:
                try:
                    batch = receive.receive_nowait()  # no turn of the loop when one waits
                except anyio.WouldBlock:
                    try:
                        batch = await receive.receive()
                    except anyio.EndOfStream:
                        return
                except anyio.EndOfStream:
                    return
                try:
                    if not self._stopping:
                        await self._send(batch)
                finally:
                    self._in_flight -= 1
                    self._notify()
                if self._buffered >= MAX_BUFFERED:
                    await self._flushed.wait()

    async def _send(self, batch: Batch) -> None:
        """Send one batch until it has an answer, a 414 split, or its tries are used up."""
        log = self._log.bind(campaign=batch.campaign, ids=len(batch.ids))
        if (batch.budget is None or batch.budget > self.stats.budget) and target_length(
            self._client.path(batch.campaign), batch.ids
        ) > self.stats.budget:
            # Packed before a 414 lowered the budget: split it without sending it first.
            await self._send_pieces(batch, self.stats.budget)
            return
        attempt = 0
        while True:
            attempt += 1
            await self._limiter.acquire()
            if self._stopping:
                return
            self.stats.requests += 1
            try:
                outcomes = await self._client.delete_batch(batch.campaign, batch.ids)
            except UrlTooLongError as exc:
                self._count(exc)
                await self._split(batch, exc, log)
                return
            except TransientApiError as exc:
                self._count(exc)
                if isinstance(exc, ThrottledError | RequestTimeoutError) or exc.status == 503:
                    self._congestion(type(exc).__name__)
                batch.lost = batch.lost or exc.answer_lost
                if attempt >= self._settings.max_attempts:
                    log.warning("batch_failed", attempts=attempt, error=str(exc))
                    self._fail(batch, f"gave up after {attempt} tries: {exc}")
                    return
                self._attempted(batch)
                delay = retry_after_delay(
                    exc.retry_after,
                    self._batch_backoff.delay(attempt, self._rng),
                    self._settings.max_retry_after,
                )
                if exc.retry_after is not None:
                    # The server said when: every worker waits that long, and no longer.
                    self._limiter.pause_until(self._clock() + delay)
                log.debug("batch_retry", attempt=attempt, delay_s=round(delay, 3), error=str(exc))
                await self._sleep(delay)
                continue
            except BatchRejectedError as exc:
                self._count(exc)
                log.warning("batch_rejected", error=str(exc))
                self._fail(batch, f"rejected: {exc}")
                return
            except FatalApiError as exc:
                self._count(exc)
                self.stats.aborted = str(exc)
                raise
            log.debug("batch_done", attempt=attempt)
            if self._pacer is not None and self._pacer.throttled:
                self._set_rate(self._pacer.on_success(self._clock()), "healthy")
            self._apply(batch, outcomes)
            return

    def _congestion(self, reason: str) -> None:
        if self._pacer is not None:
            self._set_rate(self._pacer.on_congestion(self._clock()), reason)
            # A server with a limit counts bursts against it: space every request evenly.
            self._limiter.set_burst(1)

    def _set_rate(self, rate: float | None, reason: str) -> None:
        if rate is None:
            return
        old = self._limiter.rate
        self._limiter.set_rate(rate)
        self.stats.rate = rate
        # Decreases matter to an operator; the steady climb back is detail.
        level = self._log.debug if old is not None and rate > old else self._log.info
        level("rate_changed", old=round(old or 0.0, 3), new=round(rate, 3), reason=reason)

    def _count(self, exc: Exception) -> None:
        name = type(exc).__name__
        self.stats.by_error[name] = self.stats.by_error.get(name, 0) + 1

    async def _split(self, batch: Batch, exc: UrlTooLongError, log: Any) -> None:
        """After a 414: lower the budget for the rest of the run, resend in smaller pieces."""
        path = self._client.path(batch.campaign)
        refused = target_length(path, batch.ids)
        if refused > self.stats.budget:
            # Sized before another worker's 414 lowered the budget: that budget may do.
            await self._send_pieces(batch, self.stats.budget)
            return
        budget = int(refused * BUDGET_SHRINK)
        try:
            check_budget(path, budget)
        except ConfigError:
            raise FatalApiError(
                f"the server refuses request-targets of {refused} bytes ({exc}); not even one "
                "id fits: check the front server's URL limit"
            ) from None
        self.stats.budget = budget
        log.warning("url_too_long", refused_bytes=refused, new_budget=budget)
        await self._send_pieces(batch, budget)

    async def _send_pieces(self, batch: Batch, budget: int) -> None:
        path = self._client.path(batch.campaign)
        for ids in pack(batch.ids, path, budget, self._settings.max_ids_per_request):
            calls = {i: batch.calls[i] for i in ids if i in batch.calls}
            await self._send(Batch(batch.campaign, ids, calls, batch.lost, batch.run, budget))

    # --- outcomes -------------------------------------------------------------------------

    def _apply(self, batch: Batch, outcomes: Sequence[Outcome]) -> None:
        now, at = self._clock(), self._wall()
        campaign, lost = batch.campaign, batch.lost
        answer = Outcomes.of(outcomes)
        ids, statuses, record_ids = answer.ids, answer.statuses, answer.record_ids
        if answer.all_removed:
            # The usual answer: no Python code runs per id.
            self._record(
                OutcomeGroup(
                    campaign, ids, "removed", at, record_ids, answer_lost=lost, run=batch.run
                )
            )
            return
        updates: list[OutcomeGroup] = []
        deadline = self._settings.call_retry_timeout
        details = answer.details
        removed: list[int] = []
        removed_record_ids: list[int | None] = []
        not_found: list[int] = []
        in_call: list[int] = []
        for k, status in enumerate(statuses):
            customer_id = ids[k]
            if status == REMOVED and k not in details:
                removed.append(customer_id)
                removed_record_ids.append(record_ids[k])
            elif status == REMOVED:
                updates.append(
                    OutcomeGroup(
                        campaign, [customer_id], "removed", at, [record_ids[k]], False, lost,
                        details[k],
                    )
                )  # fmt: skip
            elif status == NOT_EXIST:
                not_found.append(customer_id)
            elif status == CALL_IN_PROGRESS:
                first, retries = batch.calls.get(customer_id, (now, 0))
                due = next_call_retry(now, first, retries, self._call_backoff, deadline, self._rng)
                if due is not None:
                    self._scheduler.schedule(campaign, customer_id, due, first, retries + 1)
                in_call.append(customer_id)
            else:
                detail = details.get(k) or f"status {status}"
                updates.append(
                    OutcomeGroup(campaign, [customer_id], "failed", at, None, False, lost, detail)
                )
        # Ids of one batch are distinct: grouping them by state changes nothing in the journal.
        updates.append(
            OutcomeGroup(campaign, removed, "removed", at, removed_record_ids, answer_lost=lost)
        )
        updates.append(OutcomeGroup(campaign, not_found, "not_found", at, answer_lost=lost))
        updates.append(
            OutcomeGroup(campaign, in_call, "in_call", at, in_call=True, answer_lost=lost)
        )
        self._record(*(group for group in updates if group.ids))

    def _attempted(self, batch: Batch) -> None:
        """Count a try that gave no per-record answer; the records keep their state."""
        at, campaign, lost, calls = self._wall(), batch.campaign, batch.lost, batch.calls
        waiting = [i for i in batch.ids if i not in calls]
        calling = [i for i in batch.ids if i in calls]
        self._record(
            *(
                group
                for group in (
                    OutcomeGroup(campaign, waiting, "pending", at, answer_lost=lost),
                    OutcomeGroup(campaign, calling, "in_call", at, in_call=True, answer_lost=lost),
                )
                if group.ids
            )
        )

    def _fail(self, batch: Batch, reason: str) -> None:
        self._record(
            OutcomeGroup(
                batch.campaign, batch.ids, "failed", self._wall(), answer_lost=batch.lost,
                detail=reason, run=batch.run,
            )
        )  # fmt: skip

    def _record(self, *groups: OutcomeGroup) -> None:
        """Buffer outcomes for the next group commit."""
        self._buffer.extend(groups)
        self._buffered += sum(len(group.ids) for group in groups)

    # --- the journal writer ---------------------------------------------------------------

    async def _commit_loop(self) -> None:
        # Commits at least every COMMIT_INTERVAL, and sooner once half of MAX_BUFFERED waits,
        # so that a fast run never leaves workers waiting for the writer.
        last = self._clock()
        while True:
            await self._sleep(COMMIT_INTERVAL / 10)
            if self._buffered >= MAX_BUFFERED // 2 or self._clock() - last >= COMMIT_INTERVAL:
                await self._flush()
                last = self._clock()

    async def _flush(self) -> None:
        if self._buffer:
            groups, self._buffer, self._buffered = self._buffer, [], 0
            by_state = await self._db_call(self._journal.record_groups, groups)
            committed = self.stats.committed
            for state, count in by_state.items():
                committed[state] = committed.get(state, 0) + count
        self._flushed.set()
        self._flushed = anyio.Event()
