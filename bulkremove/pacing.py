"""Adaptive sending rate: back off when the server pushes back, creep up while it copes.

``--rate`` is a ceiling, not a target. The controller is AIMD with a memory of the level that
caused trouble (the idea of TCP CUBIC, kept simple). Every throttled request is expensive here,
because a ``Retry-After`` pauses all workers, so the controller settles below that level and
probes above it only after a calm spell:

- a congestion signal (429, 503, a time-out) remembers the rate it happened at (``w_max``) and
  lowers the rate to ``decrease`` times that, or to ``steep`` times it when the last signal was
  less than ``streak`` seconds ago (a rate far above the server's limit is left quickly); signals
  within ``cooldown`` of the last decrease count as the same event, since requests already in
  flight all see the same overload;
- every ``tick`` of healthy answers, the rate closes ``approach`` of its gap to ``settle`` times
  ``w_max``; once there, and ``calm`` seconds after the last signal, it probes upward by
  ``probe`` of ``w_max`` per tick, raising ``w_max`` as it passes it.

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
    decrease: float = 0.8
    steep: float = 0.5
    streak: float = 3.0
    cooldown: float = 1.0
    settle: float = 0.9
    approach: float = 0.5
    calm: float = 20.0
    probe: float = 0.02
    tick: float = 1.0
    rate: float = field(init=False)
    w_max: float = field(init=False)
    throttled: bool = field(init=False, default=False)
    """True once the server has pushed back: a limit exists, so bursts are unwelcome."""
    _last_change: float = field(init=False, default=-math.inf)
    _last_signal: float = field(init=False, default=-math.inf)

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError(f"need 0 < floor <= ceiling, got {self.floor} and {self.ceiling}")
        self.rate = self.ceiling
        self.w_max = self.ceiling

    def on_congestion(self, now: float) -> float | None:
        """The server pushed back at ``now``; returns the new rate, or None if unchanged."""
        if now - self._last_signal < self.cooldown:
            return None
        factor = self.steep if now - self._last_signal < self.streak else self.decrease
        self._last_signal = self._last_change = now
        self.throttled = True
        self.w_max = self.rate
        lowered = max(self.floor, self.rate * factor)
        if lowered == self.rate:
            return None
        self.rate = lowered
        return lowered

    def on_success(self, now: float) -> float | None:
        """A healthy answer at ``now``; returns the new rate once per tick, or None."""
        if self.rate >= self.ceiling or now - self._last_change < self.tick:
            return None
        target = self.w_max * self.settle
        if self.rate < target * 0.99:
            raised = self.rate + (target - self.rate) * self.approach
        elif now - self._last_signal >= self.calm:
            raised = self.rate + self.w_max * self.probe
            self.w_max = max(self.w_max, raised)
        else:
            return None
        self._last_change = now
        self.rate = min(self.ceiling, raised)
        return self.rate
