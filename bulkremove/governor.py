"""The sending rate of a run (or a listing), steered by what the server answers.

One :class:`Governor` holds the rate limiter every worker waits on and the adaptive rate
(:mod:`bulkremove.pacing`) that moves it, and turns answers into moves:

- a good answer: the adaptive rate may climb; rate-limit headers (:mod:`bulkremove.ratelimits`)
  set the rate to the server's stated policy, and a quota used up (or a Retry-After on a good
  answer) pauses every worker until it refills;
- a throttle (429, 503, a time-out): the adaptive rate steps down, bursts stop.

A 429's Retry-After delays its own batch; it pauses every worker too unless the rate adapts and
it is at most :data:`PACED_RETRY_AFTER`: a server rounding up to whole seconds says 1 for a
shortfall of one request, and a lowered rate, not a second of silence, is the answer to that.
"""

from __future__ import annotations

from collections.abc import Callable

from bulkremove.errors import RequestTimeoutError, ThrottledError, TransientApiError
from bulkremove.limiter import RateLimiter
from bulkremove.pacing import AdaptiveRate
from bulkremove.ratelimits import RateLimits

PACED_RETRY_AFTER = 1.0
"""The longest Retry-After of a 429 that delays only its own batch while the rate adapts."""

RateChanged = Callable[[float | None, float, str], None]
"""Told the old rate, the new one and why, after each change."""


class Governor:
    """The limiter and the adaptive rate (None when ``adaptive`` is off) of one sender."""

    __slots__ = ("_ceiling", "_changed", "_clock", "_max_pause", "limiter", "pacer")

    def __init__(
        self,
        limiter: RateLimiter,
        pacer: AdaptiveRate | None,
        *,
        clock: Callable[[], float],
        max_pause: float,
        changed: RateChanged | None = None,
    ) -> None:
        self.limiter = limiter
        self.pacer = pacer
        self._clock = clock
        self._max_pause = max_pause
        self._changed = changed
        self._ceiling = limiter.rate
        if pacer is not None:
            limiter.set_rate(pacer.rate)
            # No opening burst: against a limit equal to the ceiling, the server's bucket
            # would be left without the request of slack that network jitter needs.
            limiter.set_burst(1)

    def answered(self, limits: object | None = None) -> None:
        """A good answer, with what its headers said of the limit."""
        now = self._clock()
        if isinstance(limits, RateLimits):
            self._heed(limits, now)
        pacer = self.pacer
        if pacer is not None and pacer.throttled:
            self._set(pacer.on_success(now), "healthy")

    def pushed_back(self, error: TransientApiError, sent: float) -> None:
        """A request sent at ``sent`` failed with ``error``; throttles move the rate."""
        now = self._clock()
        if isinstance(error.limits, RateLimits):
            self._heed(error.limits, now)
        throttle = isinstance(error, ThrottledError | RequestTimeoutError) or error.status == 503
        if throttle and self.pacer is not None:
            self._set(self.pacer.on_congestion(now, sent), type(error).__name__)
            # A server with a limit counts bursts against it: space every request evenly.
            self.limiter.set_burst(1)

    def pauses_all(self, error: TransientApiError, delay: float) -> bool:
        """Whether the retry's wait of ``delay`` (the server's Retry-After) holds every worker."""
        if error.retry_after is None:
            return False
        return self.pacer is None or error.status != 429 or delay > PACED_RETRY_AFTER

    def _heed(self, limits: RateLimits, now: float) -> None:
        if limits.rate is not None and limits.rate > 0:
            if self.pacer is not None:
                self._set(self.pacer.advise(limits.rate, now), "policy")
            else:
                ceiling = self._ceiling
                self._set(limits.rate if ceiling is None else min(ceiling, limits.rate), "policy")
        pause = limits.pause()
        if pause:
            self.limiter.pause_until(now + min(pause, self._max_pause))

    def _set(self, rate: float | None, reason: str) -> None:
        if rate is None or rate == self.limiter.rate:
            return
        old = self.limiter.rate
        self.limiter.set_rate(rate)
        if self._changed is not None:
            self._changed(old, rate, reason)
