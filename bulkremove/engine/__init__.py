"""The removal engine: one task group owning the batcher, the workers and the journal writer.

    store ──pages──► feed ──bounded stream──► N workers ──► sender (the API)
                      ▲                          │
                      └── retry scheduler ◄──────┤ CALL_IN_PROGRESS
                                                 └──► outcome writer ──► store (group commit)

The run is over when the store has no more pending ids to hand out, no batch is in flight, and
the scheduler is empty; only then does the batcher close the stream. Retries feed back into the
feed, so the stream cannot be closed earlier.

The parts: :mod:`.feed` packs batches, :mod:`.send` is the retry policy of one batch (and the
byte budget a 414 lowers), :mod:`.outcomes` turns answers into journal groups and retries (pure
code), :mod:`.writer` commits them. The engine depends on the :class:`.protocols.Sender` and
:class:`.protocols.Store` protocols, not on the HTTP client or the SQLite journal.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkremove.answers import Outcome
from bulkremove.backoff import Backoff
from bulkremove.batching import check_budget
from bulkremove.engine.batch import Batch
from bulkremove.engine.feed import PAGE_SIZE, READ_AHEAD, Feed
from bulkremove.engine.outcomes import Now, classify
from bulkremove.engine.protocols import Pages, Sender, Store
from bulkremove.engine.send import BatchSending, UrlBudget, rate_log, retry_window
from bulkremove.engine.stats import EngineStats
from bulkremove.engine.writer import OutcomeWriter
from bulkremove.governor import Governor
from bulkremove.journal import OutcomeGroup
from bulkremove.kinds import kind_of
from bulkremove.limiter import RateLimiter
from bulkremove.pacing import AdaptiveRate
from bulkremove.scheduler import RetryScheduler, next_call_retry
from bulkremove.settings import Settings

_T = TypeVar("_T")

__all__ = ["PAGE_SIZE", "READ_AHEAD", "Batch", "Engine", "EngineStats", "Pages", "Sender", "Store"]


class Engine:
    """Removes every pending record of a store through a sender. Call :meth:`run` once.

    ``clock``, ``wall_clock``, ``sleep`` and ``rng`` are injected, so tests run on a fake clock.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        sender: Sender,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._sender = sender
        self._clock = clock
        self._wall = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.stats = EngineStats(rate=settings.rate)
        self.budget = UrlBudget(settings.max_url_length, kind_of(settings).pair)
        """The request-target byte budget, lowered by each 414."""
        self._limiter = RateLimiter(settings.rate, settings.rate_burst, clock=clock, sleep=sleep)
        governor = Governor(
            self._limiter,
            AdaptiveRate(settings.rate, min(settings.min_rate, settings.rate))
            if settings.adaptive
            else None,
            clock=clock,
            max_pause=settings.max_retry_after,
            changed=rate_log(self.stats),
        )
        self._scheduler = RetryScheduler()
        self._call_backoff = Backoff(settings.call_retry_initial, settings.call_retry_max)
        self._db = anyio.CapacityLimiter(1)  # one thread at a time on the store
        # Fresh ids are read through a read-only handle of their own, so that a page is never
        # queued behind a commit of outcomes (WAL lets it read meanwhile).
        self._pages_lock = anyio.CapacityLimiter(1)
        self._writer = OutcomeWriter(
            self._commit, clock=clock, sleep=sleep, committed=self.stats.committed
        )
        self._sending = BatchSending(
            sender,
            stats=self.stats,
            budget=self.budget,
            governor=governor,
            backoff=Backoff(settings.retry_initial, settings.retry_max),
            max_attempts=settings.max_attempts,
            max_retry_after=settings.max_retry_after,
            retry_window=retry_window(settings),
            max_ids=settings.max_ids_per_request,
            answered=self._answered,
            record=self._writer.record,
            stopping=lambda: self._stopping,
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rng=self._rng,
        )
        # Accounting that decides the end of the run.
        self._in_flight = 0
        self._stopping = False
        self._sent_up_to: dict[str, int] = {}  # what the store was told by mark_sent
        self._changed: anyio.Event | None = None  # what the batcher waits on, while it waits

    @property
    def waiting_on_calls(self) -> int:
        """Ids held for a retry because they were in a call (read-only, for progress)."""
        return len(self._scheduler)

    @property
    def rate(self) -> float | None:
        """The sending rate in force, requests per second; None when unlimited."""
        return self._limiter.rate

    @property
    def paused_s(self) -> float:
        """Seconds sending has been paused at the server's wish (Retry-After)."""
        return self._limiter.paused_s()

    def stop(self) -> None:
        """Stop handing out batches; requests in flight go on to their answers.

        Ids not yet sent, and ids waiting for a retry, keep their journal state for a resume.
        """
        self._stopping = True
        self._notify()

    # --- the run --------------------------------------------------------------------------

    async def run(self) -> EngineStats:
        """Send until every pending record has a final state for this run, then commit."""
        campaigns = await self._db_call(self._store.campaigns)
        for campaign in campaigns:
            check_budget(self._sender.path(campaign), self.budget.limit, self.budget.pair)
        store = self._store
        pages: Pages = await anyio.to_thread.run_sync(store.open, store.path)
        ended = False  # with no request in flight, so nothing sent without its answer
        try:
            async with anyio.create_task_group() as outer:
                outer.start_soon(self._writer.run)
                async with anyio.create_task_group() as work:
                    feed = Feed(
                        campaigns,
                        pages,
                        path=self._sender.path,
                        budget=self.budget,
                        scheduler=self._scheduler,
                        max_ids=self._settings.max_ids_per_request,
                        clock=self._clock,
                        read=self._read_page,
                        spawn=work.start_soon,
                        notify=self._notify,
                        # read here, so that tests may set them on this package
                        page_size=PAGE_SIZE,
                        read_ahead=READ_AHEAD,
                    )
                    send, receive = anyio.create_memory_object_stream[Batch](
                        self._settings.concurrency
                    )
                    work.start_soon(self._batcher, feed, send)
                    for _ in range(self._settings.concurrency):
                        work.start_soon(self._worker, receive.clone())
                    receive.close()
                outer.cancel_scope.cancel()
            ended = True
        finally:
            with anyio.CancelScope(shield=True):
                await self._writer.flush()
                if ended:
                    await self._db_call(store.clear_sent)
                await anyio.to_thread.run_sync(pages.close, limiter=self._pages_lock)
        return self.stats

    async def _batcher(self, feed: Feed, send: MemoryObjectSendStream[Batch]) -> None:
        async with send:
            while not self._stopping:
                batch = await feed.next_batch()
                if batch is not None:
                    if len(batch.ids) > len(batch.calls):
                        await self._mark_sent(feed, batch)
                    self._in_flight += 1
                    self.stats.batches += 1
                    # Fill the queue without a turn of the event loop per batch: taking a
                    # turn each (what send() does first) left workers waiting for batches.
                    try:
                        try:
                            send.send_nowait(batch)
                        except anyio.WouldBlock:
                            await send.send(batch)
                    except anyio.BrokenResourceError:
                        # Every worker has ended, which only an error does (a fatal answer in
                        # each at once): that error ends the run, not this one.
                        return
                    continue
                if feed.exhausted and self._in_flight == 0 and not self._scheduler:
                    return
                # made only when needed: one per batch sent was a measurable cost
                changed = self._changed = anyio.Event()
                next_due = self._scheduler.next_due()
                if next_due is None:
                    await changed.wait()
                else:
                    await self._wait(changed, next_due - self._clock())
                self._changed = None

    async def _mark_sent(self, feed: Feed, batch: Batch) -> None:
        """Make the store know ``batch``'s fresh ids are sent before they are: after a kill, a
        resume flags those it has no answer for. Fresh ids ascend, and come last in a batch.

        The mark runs about ``concurrency`` batches ahead: a commit per request made sending about
        a third slower; ids marked but never sent may be flagged after a kill.
        """
        campaign, last = batch.campaign, batch.ids[-1]
        # (an id that is no int, from a journal edited by hand, is refused by the sender)
        if type(last) is int and last > self._sent_up_to.get(campaign, 0):
            settings = self._settings
            up_to = feed.sent_mark(batch, settings.concurrency * settings.max_ids_per_request)
            await self._db_call(functools.partial(self._store.mark_sent, campaign, up_to))
            self._sent_up_to[campaign] = up_to

    async def _wait(self, changed: anyio.Event, seconds: float) -> None:
        """Until ``changed`` is set, or ``seconds`` pass on the engine's (injected) clock."""

        async def alarm() -> None:
            await self._sleep(max(0.0, seconds))
            changed.set()

        async with anyio.create_task_group() as group:
            group.start_soon(alarm)
            await changed.wait()
            group.cancel_scope.cancel()

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
                        await self._sending.send(batch)
                finally:
                    self._in_flight -= 1
                    self._notify()
                await self._writer.wait_if_full()

    def _answered(self, batch: Batch, outcomes: Sequence[Outcome]) -> None:
        groups, retries = classify(
            batch, outcomes, Now(self._clock(), self._wall()), self._next_call_retry
        )
        schedule, campaign = self._scheduler.schedule, batch.campaign
        for retry in retries:
            schedule(campaign, retry.customer_id, retry.due, retry.first_call_at, retry.retries)
        self._writer.record(groups)

    def _next_call_retry(self, now: float, first_call_at: float, retries: int) -> float | None:
        return next_call_retry(
            now,
            first_call_at,
            retries,
            self._call_backoff,
            self._settings.call_retry_timeout,
            self._rng,
        )

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def _read_page(self, read: Callable[[], list[int]]) -> list[int]:
        return await anyio.to_thread.run_sync(read, limiter=self._pages_lock)

    async def _commit(self, groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        return await self._db_call(functools.partial(self._store.record_groups, groups))

    async def _db_call(self, func: Callable[[], _T]) -> _T:
        return await anyio.to_thread.run_sync(func, limiter=self._db)
