"""Sending one batch until it has an answer: what each kind of error makes of it.

=====================  ========================================================================
answer                 what happens
=====================  ========================================================================
per-record outcomes    handed on; a throttled pace climbs back
UrlTooLongError        the byte budget is lowered for the rest of the run; resent in pieces
TransientApiError      tried again after a backoff (or the server's Retry-After, which pauses
                       every worker), up to ``max_attempts`` tries and while a retry can end
                       within ``batch_retry_timeout`` of the first try; then its records fail.
                       One that may have been carried out (``answer_lost``) flags the batch's
                       records
CannotConnectError     the same, until connections were refused for a while with no answer
                       between: then the run stops, the server is down (``reach``)
BatchRejectedError     its records fail; the run goes on
FatalApiError          the run stops: nothing more is sent
=====================  ========================================================================
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bulkremove.answers import Outcome
from bulkremove.backoff import Backoff, retry_after_delay
from bulkremove.batching import PAIR_BYTES, check_budget, pack, target_length
from bulkremove.engine.batch import Batch
from bulkremove.engine.outcomes import attempted, failed
from bulkremove.engine.protocols import Sender
from bulkremove.engine.reach import Reach
from bulkremove.engine.stats import EngineStats
from bulkremove.errors import (
    BatchRejectedError,
    CannotConnectError,
    ConfigError,
    FatalApiError,
    TransientApiError,
    UrlTooLongError,
)
from bulkremove.governor import Governor, RateChanged
from bulkremove.journal import OutcomeGroup
from bulkremove.limiter import shown_rate
from bulkremove.logs import get_logger

if TYPE_CHECKING:
    from bulkremove.settings import Settings

BUDGET_SHRINK = 0.5
"""After a 414 the byte budget becomes this share of the refused request-target's length.
Halving finds the usual power-of-two limits of front servers (4 KiB, 2 KiB) in one or two steps."""


def retry_window(settings: Settings) -> float:
    """Seconds after a batch's first try began within which a retry may start.

    A retry starting later could end (after ``request_timeout``) past ``batch_retry_timeout``.
    """
    return settings.batch_retry_timeout - settings.request_timeout


def longest_batch(settings: Settings) -> float:
    """The longest one batch can take, from its first try to its last answer, in seconds.

    The first try is always made; a retry only within :func:`retry_window`. Every wait falls
    inside: backoff, Retry-After (this batch's or another's), the rate limiter. Without the
    window the defaults would allow (8 - 1) x 300 s of Retry-After plus 8 x 30 s of requests.
    """
    return max(settings.batch_retry_timeout, settings.request_timeout)


def rate_log(stats: EngineStats) -> RateChanged:
    """What a run does with each change of its sending rate: keep it in ``stats``, log it."""
    log = get_logger("engine")

    def changed(old: float | None, rate: float, reason: str) -> None:
        stats.rate = rate
        # Decreases matter to an operator; the steady climb back is detail.
        level = log.debug if old is not None and rate > old else log.info
        level("rate_changed", old=shown_rate(old or 0.0), new=shown_rate(rate), reason=reason)

    return changed


class UrlBudget:
    """The most bytes a request-target may have: the configured limit, lowered by each 414.

    One for the run: the limit is the front server's, whichever campaign a request names.
    ``pair`` is what one key costs beyond its digits (``Kind.pair``).
    """

    __slots__ = ("limit", "pair")

    def __init__(self, limit: int, pair: int = PAIR_BYTES) -> None:
        self.limit = limit
        self.pair = pair

    def length(self, path: str, ids: Sequence[int]) -> int:
        """Bytes of the request-target for ``ids`` after ``path``."""
        return target_length(path, ids, self.pair)

    def exceeded(self, path: str, batch: Batch) -> bool:
        """True when ``batch``, packed before the budget was lowered, no longer fits it."""
        return (batch.budget is None or batch.budget > self.limit) and self.length(
            path, batch.ids
        ) > self.limit

    def refused(self, path: str, length: int, error: UrlTooLongError) -> int:
        """A request-target of ``length`` bytes was refused: the budget to resend it under.

        Raises FatalApiError when not even one id would fit under the lowered budget.
        """
        if length > self.limit:
            return self.limit  # sized before another worker's 414 lowered it: that may do
        budget = int(length * BUDGET_SHRINK)
        try:
            check_budget(path, budget, self.pair)
        except ConfigError:
            raise FatalApiError(
                f"the server refuses request-targets of {length} bytes ({error}); not even one "
                "id fits: check the front server's URL limit"
            ) from None
        self.limit = budget
        return budget


class BatchSending:
    """The retry policy for one batch at a time, shared by every worker of a run."""

    def __init__(
        self,
        sender: Sender,
        *,
        stats: EngineStats,
        budget: UrlBudget,
        governor: Governor,
        backoff: Backoff,
        max_attempts: int,
        max_retry_after: float,
        retry_window: float,
        max_ids: int,
        answered: Callable[[Batch, Sequence[Outcome]], None],
        record: Callable[[list[OutcomeGroup]], None],
        stopping: Callable[[], bool],
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
    ) -> None:
        self._sender = sender
        self._stats = stats
        self._budget = budget
        self._governor = governor
        self._limiter = governor.limiter
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._retry_window = retry_window
        self._max_ids = max_ids
        self._answered = answered
        self._record = record
        self._stopping = stopping
        self._clock = clock
        self._wall = wall_clock
        self._sleep = sleep
        self._rng = rng
        self._log = get_logger("engine")
        self._reach = Reach(max_attempts)

    async def send(self, batch: Batch) -> None:
        """Send ``batch`` until it has an answer, a 414 split, or its tries are used up."""
        path = self._sender.path(batch.campaign)
        if self._budget.exceeded(path, batch):
            # Packed before a 414 lowered the budget: split it without sending it first.
            await self._send_pieces(batch, self._budget.limit)
            return
        stats, log = self._stats, self._log.bind(campaign=batch.campaign, ids=len(batch.ids))
        attempt = 0
        first = 0.0  # clock time the first try began
        last: TransientApiError | None = None  # why the previous try failed
        while True:
            attempt += 1
            await self._limiter.acquire()
            if self._stopping():
                return
            if attempt == 1:
                first = self._clock()
            elif self._clock() - first > self._retry_window:
                # The limiter held the retry (another batch's Retry-After) past the window.
                assert last is not None
                self._give_up(batch, attempt - 1, self._clock() - first, last)
                return
            stats.requests += 1
            sent = self._clock()
            try:
                outcomes = await self._sender.delete_batch(batch.campaign, batch.ids)
            except UrlTooLongError as exc:
                self._count(exc)
                refused, before = self._budget.length(path, batch.ids), self._budget.limit
                budget = self._budget.refused(path, refused, exc)
                if budget < before:
                    log.warning("url_too_long", refused_bytes=refused, new_budget=budget)
                await self._send_pieces(batch, budget)
                return
            except TransientApiError as exc:
                self._count(exc)
                self._governor.pushed_back(exc, sent)
                batch.lost = batch.lost or exc.answer_lost
                last = exc
                if not isinstance(exc, CannotConnectError):
                    self._reach.answered()
                elif down := self._reach.refused(self._clock(), exc):
                    stats.aborted = str(down)
                    raise down from None
                if attempt >= self._max_attempts:
                    self._give_up(batch, attempt, None, exc)
                    return
                delay = retry_after_delay(
                    exc.retry_after, self._backoff.delay(attempt, self._rng), self._max_retry_after
                )
                elapsed = self._clock() - first
                if elapsed + delay > self._retry_window:
                    self._give_up(batch, attempt, elapsed, exc)
                    return
                self._record(attempted(batch, self._wall()))
                if self._governor.pauses_all(exc, delay):
                    # The server said when: every worker waits that long, and no longer.
                    self._limiter.pause_until(self._clock() + delay)
                log.debug("batch_retry", attempt=attempt, delay_s=round(delay, 3), error=str(exc))
                stats.retries += 1
                stats.retry_wait_s += delay
                await self._sleep(delay)
                continue
            except BatchRejectedError as exc:
                self._count(exc)
                log.warning("batch_rejected", error=str(exc))
                self._record(failed(batch, self._wall(), f"rejected: {exc}"))
                return
            except FatalApiError as exc:
                self._count(exc)
                stats.aborted = str(exc)
                raise
            log.debug("batch_done", attempt=attempt)
            self._reach.answered()
            self._governor.answered(getattr(outcomes, "limits", None))
            self._answered(batch, outcomes)
            return

    def _give_up(
        self, batch: Batch, tries: int, elapsed: float | None, error: TransientApiError
    ) -> None:
        """Fail ``batch`` after ``tries``; ``elapsed`` when it ran out of time, not of tries."""
        self._log.warning(
            "batch_failed", campaign=batch.campaign, ids=len(batch.ids), attempts=tries,
            error=str(error),
        )  # fmt: skip
        spent = "" if elapsed is None else f" in {elapsed:.0f} s (batch_retry_timeout)"
        self._record(failed(batch, self._wall(), f"gave up after {tries} tries{spent}: {error}"))

    async def _send_pieces(self, batch: Batch, budget: int) -> None:
        path = self._sender.path(batch.campaign)
        for ids in pack(batch.ids, path, budget, self._max_ids, self._budget.pair):
            calls = {i: batch.calls[i] for i in ids if i in batch.calls}
            await self.send(Batch(batch.campaign, ids, calls, batch.lost, batch.run, budget))

    def _count(self, exc: Exception) -> None:
        by_error = self._stats.by_error
        name = type(exc).__name__
        by_error[name] = by_error.get(name, 0) + 1
