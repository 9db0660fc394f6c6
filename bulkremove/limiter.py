"""Requests per second with a small burst, and a global pause, shared by many worker tasks.

The core is GCRA (the generic cell rate algorithm, a token bucket kept as one number): ``_tat`` is
the theoretical arrival time, and a request may go at ``now`` when ``now >= _tat - (burst - 1) *
interval``. Each grant pushes ``_tat`` one interval on. Grants are then at least ``(k - burst + 1)
* interval`` apart over any ``k + 1`` of them, so no one-second window ever holds more than
``rate + burst`` of them.

``acquire`` lets one waiter at a time (first come, first served) sleep until its slot and takes the
slot only when it wakes: a cancelled waiter has reserved nothing, and a pause or a change of rate
reaches the sleeping waiter at once (its sleep is interrupted and its slot computed anew).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

import anyio

CATCH_UP = 0.5
"""The share of an interval a late wake-up may be made up by sending the next one sooner."""


def shown_rate(rate: float) -> float:
    """A rate as people read it: two significant digits below 10 req/s, else one decimal."""
    return float(f"{rate:.2g}") if rate < 10 else round(rate, 1)


def _interval(rate: float | None) -> float:
    if rate is None or rate == math.inf:
        return 0.0
    if not rate > 0:  # also refuses NaN
        raise ValueError(f"rate must be positive, inf or None, got {rate!r}")
    return 1.0 / rate


class RateLimiter:
    """At most ``rate`` requests per second on average, with bursts of up to ``burst``.

    ``rate`` None (or ``inf``) means unlimited; a pause still applies then. ``clock`` and ``sleep``
    are injected so tests run on a fake clock; both must measure seconds on the same time line.
    """

    __slots__ = (
        "_burst",
        "_changes",
        "_clock",
        "_interval",
        "_lock",
        "_nap",
        "_paused",
        "_paused_until",
        "_rate",
        "_sleep",
        "_tat",
    )

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._interval = _interval(rate)
        self._rate = None if self._interval == 0.0 else rate
        self._burst = burst
        self._tat = -math.inf
        self._paused_until = -math.inf
        self._paused = 0.0  # the length of all pauses so far, the one running counted in full
        self._clock = clock
        self._sleep = sleep
        self._lock = anyio.Lock()
        self._changes = 0  # bumped by anything that may move the sleeping waiter's slot
        self._nap: anyio.CancelScope | None = None

    @property
    def rate(self) -> float | None:
        """Requests per second, None when unlimited."""
        return self._rate

    @property
    def burst(self) -> int:
        """Requests that may go at once after an idle spell."""
        return self._burst

    @property
    def paused_until(self) -> float:
        """The clock time before which nothing is granted (``-inf`` if never paused)."""
        return self._paused_until

    def paused_s(self) -> float:
        """Seconds spent paused so far (overlapping pauses counted once)."""
        return self._paused - max(0.0, self._paused_until - self._clock())

    def reserve(self, now: float) -> float:
        """Take the next free slot at or after ``now``; return the seconds to wait for it.

        The synchronous core of ``acquire``, for tests and for callers that wait by themselves.
        """
        slot = self._slot(now)
        self._grant(slot)
        self._changed()
        return slot - now

    async def acquire(self) -> None:
        """Wait until a request may be sent, and count it as sent."""
        if not self._lock.locked():  # nobody waiting (a release hands the lock on)
            now = self._clock()
            if self._slot(now) <= now:
                self._grant(now)
                return
        async with self._lock:
            while True:
                now = self._clock()
                slot = self._slot(now)
                if slot <= now:
                    self._grant(now)
                    return
                seen = self._changes
                try:
                    with anyio.CancelScope() as self._nap:
                        await self._sleep(slot - now)
                finally:
                    self._nap = None
                if self._changes == seen:
                    # An early wake-up counts from the slot, and so does one late by less than
                    # CATCH_UP of an interval: the event loop's steady lateness would otherwise
                    # lower the rate. A later one counts from when it happened.
                    woke = self._clock()
                    late = woke - slot > CATCH_UP * self._interval
                    self._grant(woke if late else slot)
                    return

    def pause_until(self, until: float) -> None:
        """Grant nothing before clock time ``until``; the later of two pauses wins.

        A pause ends without a burst: the server that asked for it gets one request at ``until``,
        then the next at the normal spacing.
        """
        if until > self._paused_until:
            self._paused += max(0.0, until - max(self._clock(), self._paused_until))
            self._paused_until = until
            self._tat = max(self._tat, until + (self._burst - 1) * self._interval)
            self._changed()

    def set_rate(self, rate: float | None) -> None:
        """Change the rate from now on.

        Slots already granted stand. What is owed for them is kept in requests, not seconds (as
        Go's ``x/time/rate`` keeps tokens): after a slot granted at the old rate, the next one
        comes the remaining part of one interval later, measured at the new rate. A waiter asleep
        for its slot is woken and spaced at the new rate.
        """
        interval = _interval(rate)
        if interval == self._interval:
            return
        base = max(self._clock(), self._paused_until)
        if self._interval > 0.0 and self._tat > base:
            self._tat = base + (self._tat - base) * (interval / self._interval)
        self._interval = interval
        self._rate = None if interval == 0.0 else rate
        self._changed()

    def set_burst(self, burst: int) -> None:
        """Change how many requests may go at once after an idle spell."""
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._burst = burst
        self._changed()

    def _slot(self, now: float) -> float:
        return max(now, self._paused_until, self._tat - (self._burst - 1) * self._interval)

    def _grant(self, at: float) -> None:
        self._tat = max(self._tat, at) + self._interval

    def _changed(self) -> None:
        self._changes += 1
        if self._nap is not None:
            self._nap.cancel()
