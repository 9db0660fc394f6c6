"""Adaptive sending rate: find the server's limit quickly, then sit just under it.

``--rate`` is a ceiling, not a target. Against a token bucket (what nginx's ``limit_req`` and
most API gateways run) the limit is a line: any rate above it is throttled sooner or later, any
rate below it never is. The controller brackets that line and closes the bracket:

- ``hi`` is the lowest rate a throttle (429, 503, a time-out) came at; ``lo`` the highest rate
  that ran ``hold`` without one. A rate holds when a deficit of one request would have shown by
  then: ``hold`` is the time ``precision`` of overshoot takes to cost one request (at least
  ``min_hold`` seconds).
- A throttle counts once per rate: only a request sent after the last change of rate speaks for
  the rate in force (those in flight all see the same overload). It sets ``hi`` and falls back
  to ``lo``, or, with no ``lo`` yet, to ``steep`` of the rate when it came within ``quick``
  answers of the change (far above the limit), else to ``decrease`` of it.
- Each hold raises ``lo`` to the rate held and tries the geometric middle of the bracket; once
  ``hi / lo`` is within ``1 + precision`` the rate stays at ``lo``, and every ``calm`` seconds
  without a throttle it probes ``probe`` above ``hi``, since a limit may rise.
- Unthrottled, the rate is ``headroom`` of the ceiling: told exactly the server's limit, the
  client's and the server's clocks differ by network jitter, and 1% leaves the server's bucket
  a request of slack.

So a throttle costs a request and a short step down, not a long spell far below the limit.
A server that states its limit (rate-limit headers) is paced to it exactly (:meth:`advise`).

Pure code: time comes in as arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(slots=True)
class AdaptiveRate:
    """The current sending rate between ``floor`` and ``ceiling`` requests per second."""

    ceiling: float
    floor: float
    headroom: float = 0.99
    steep: float = 0.5
    decrease: float = 0.9
    quick: int = 4
    precision: float = 0.025
    min_hold: float = 0.5
    calm: float = 20.0
    probe: float = 0.03
    rate: float = field(init=False)
    lo: float = field(init=False, default=0.0)
    """The highest rate that held without a throttle (0 while none has)."""
    hi: float = field(init=False, default=math.inf)
    """The lowest rate a throttle came at (``inf`` while none has)."""
    throttled: bool = field(init=False, default=False)
    """True once the server has pushed back: a limit exists, so bursts are unwelcome."""
    advised: bool = field(init=False, default=False)
    """True once the server has stated its rate: it is followed, not searched for."""
    _changed: float = field(init=False, default=-math.inf)
    _answers: int = field(init=False, default=0)
    _calm_since: float = field(init=False, default=-math.inf)

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError(f"need 0 < floor <= ceiling, got {self.floor} and {self.ceiling}")
        self.rate = self.top

    @property
    def top(self) -> float:
        """The highest rate searched: ``headroom`` of the ceiling."""
        return max(self.floor, self.ceiling * self.headroom)

    def hold(self) -> float:
        """Seconds a rate must run without a throttle to count as under the limit.

        Long enough for an overshoot of a quarter of the bracket (at least ``precision``) to
        cost the server's bucket one request: coarse while the bracket is wide.
        """
        share = max(self.precision, (self.hi / self.lo - 1.0) / 4.0) if self.lo else 0.25
        return max(self.min_hold, 1.0 / (share * self.rate))

    def on_congestion(self, now: float, sent: float | None = None) -> float | None:
        """A request sent at ``sent`` (``now`` if unknown) was throttled at ``now``.

        Returns the new rate, or None if unchanged.
        """
        if (now if sent is None else sent) < self._changed:
            return None  # sent at an older rate: the overload was already answered
        self.throttled, self.advised = True, False
        self._calm_since = now
        failed = self.rate
        self.hi = failed
        if self.lo >= failed:  # what held fails now: the limit is just under it, or moved
            self.lo = failed * (1.0 - 2.0 * self.precision)
        if self.lo > 0.0:
            lowered = self.lo
        else:
            lowered = failed * (self.steep if self._answers < self.quick else self.decrease)
        return self._set(max(self.floor, lowered), now)

    def on_success(self, now: float) -> float | None:
        """A healthy answer at ``now``; returns the new rate when it changes, or None."""
        self._answers += 1
        if not self.throttled or self.advised or now - self._changed < self.hold():
            return None
        self.lo = max(self.lo, self.rate)
        if self.hi / self.lo > 1.0 + self.precision:
            middle = math.sqrt(self.lo * self.hi)
        elif now - self._calm_since >= self.calm:
            self._calm_since = now
            middle = self.hi * (1.0 + self.probe)
        else:
            return None
        return self._set(min(self.top, middle), now)

    def advise(self, rate: float, now: float) -> float | None:
        """The server stated its rate (rate-limit headers): follow it, within floor and ceiling."""
        self.throttled = self.advised = True
        self.lo = self.hi = rate
        return self._set(min(self.ceiling, max(self.floor, rate)), now)

    def _set(self, rate: float, now: float) -> float | None:
        self._changed = now
        self._answers = 0
        if rate == self.rate:
            return None
        self.rate = rate
        return rate
