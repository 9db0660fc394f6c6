"""Exponential backoff with jitter, as pure functions of the attempt number and a random source.

The delay before retry ``n`` (``n = 1`` is the first retry) is drawn from
``[ceiling(n) * (1 - jitter), ceiling(n)]`` where ``ceiling(n) = min(cap, initial * multiplier **
(n - 1))``. With the default ``jitter = 0.5`` this is "equal jitter": half of the nominal delay is
always waited, the other half is spread at random.

Why equal jitter: full jitter (``[0, ceiling]``) spreads retries best but may retry at once, which
for a record that is in a call only wastes a share of a request; decorrelated jitter needs the
previous delay as state and gives no floor that grows with the attempt. Equal jitter keeps a floor
that grows with each attempt and still spreads ids that failed together, also once the cap is
reached (then delays fall in ``[cap / 2, cap]``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays that grow from ``initial`` by ``multiplier`` per attempt, never above ``cap``.

    ``jitter`` is the fraction of the nominal delay that is random: 0 gives fixed delays, 0.5 equal
    jitter (the default), 1 full jitter.
    """

    initial: float
    cap: float
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not (0.0 <= self.initial <= self.cap < math.inf):
            raise ValueError(f"backoff needs 0 <= initial <= cap < inf, got {self!r}")
        if not self.multiplier >= 1.0:
            raise ValueError(f"backoff multiplier must be at least 1, got {self.multiplier!r}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"backoff jitter must be within [0, 1], got {self.jitter!r}")

    def ceiling(self, attempt: int) -> float:
        """The longest delay before retry ``attempt``; non-decreasing in ``attempt``."""
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        try:
            nominal = self.initial * self.multiplier ** (attempt - 1)
        except OverflowError:  # far past the cap anyway
            return self.cap
        return min(self.cap, nominal)

    def floor(self, attempt: int) -> float:
        """The shortest delay before retry ``attempt``."""
        return self.ceiling(attempt) * (1.0 - self.jitter)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A delay before retry ``attempt``, within ``[floor(attempt), ceiling(attempt)]``."""
        high = self.ceiling(attempt)
        low = high * (1.0 - self.jitter)
        return min(high, low + (high - low) * rng.random())


CALL_BACKOFF = Backoff(initial=5.0, cap=60.0)
"""For a record in a call: calls last minutes, so there is no point in knocking sooner."""

TRANSIENT_BACKOFF = Backoff(initial=0.5, cap=30.0)
"""For a batch that failed for a passing reason (5xx, time-out, dropped connection)."""


def retry_after_delay(retry_after: float | None, backoff_delay: float, max_wait: float) -> float:
    """The wait before a retry when the server may have sent ``Retry-After``.

    The server's word wins when it gave one: waiting longer wastes the window it announced, and
    our own backoff is for when it said nothing. ``max_wait`` caps the result so an absurd header
    cannot stall a run. A missing, negative or NaN ``retry_after`` falls back to ``backoff_delay``.
    """
    wait = backoff_delay
    if retry_after is not None and retry_after >= 0:  # False for NaN
        wait = retry_after
    return max(0.0, min(wait, max_wait))
