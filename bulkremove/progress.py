"""Progress of a run: the figures, how they are measured, and the sinks they go to.

The job samples the engine on each sink's own interval and hands every due sink a
:class:`Progress`. Counts are of this run's records: ``removed``, ``not_found`` and ``failed`` as
committed to the journal, ``in_call`` the ids waiting for a call to end (at the end: those left in
a call), ``pending`` the rest. Sinks: :class:`LogProgress` (a ``progress`` log event, for logs
without a terminal), :class:`CallbackProgress` (library callers), the live terminal display in
:mod:`bulkremove.display`, and the metrics file in :mod:`bulkremove.metrics`.
"""

from __future__ import annotations

import io
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bulkremove.limiter import shown_rate
from bulkremove.logs import get_logger

if TYPE_CHECKING:
    from bulkremove.plan import Plan

WINDOW_S = 10.0
"""Ids per second are measured over this many recent seconds."""

RETRIED = {
    "ThrottledError": "throttled",
    "ServerError": "server_errors",
    "BadAnswerError": "server_errors",
    "RequestTimeoutError": "timeouts",
    "CannotConnectError": "connection_errors",
    "ConnectionLostError": "connection_errors",
}
"""The engine's error classes under the names progress shows them by."""


def retried(errors: Mapping[str, int]) -> dict[str, int]:
    """Failed requests as ``throttled``, ``server_errors``, ``timeouts``, ``connection_errors``."""
    counts = dict.fromkeys(("throttled", "server_errors", "timeouts", "connection_errors"), 0)
    for name, count in errors.items():
        if name in RETRIED:
            counts[RETRIED[name]] += count
    return counts


@dataclass(frozen=True, slots=True)
class Progress:
    """One sample of a run's figures."""

    total: int
    removed: int
    not_found: int
    in_call: int
    failed: int
    pending: int
    requests: int
    rate: float | None
    """The sending rate in force, requests per second (None: unlimited)."""
    ids_per_s: float
    elapsed_s: float
    eta_s: float | None
    """Seconds left at the recent pace; None while nothing is being answered."""
    errors: Mapping[str, int] = field(default_factory=dict)
    """Requests that failed, by error class."""
    paused_s: float = 0.0
    """Seconds sending was paused at the server's wish (Retry-After)."""
    final: bool = False
    ending: str = "finished"
    """How the run ended, in a final sample: a journal state (``interrupted``, ``aborted``)."""

    @property
    def done(self) -> int:
        """Records with a final state for this run."""
        return self.removed + self.not_found + self.failed + (self.in_call if self.final else 0)

    @property
    def percent(self) -> float:
        """Share of the records done, in percent."""
        return 100.0 * self.done / self.total if self.total else 100.0

    @property
    def throttled(self) -> int:
        return retried(self.errors)["throttled"]

    @property
    def server_errors(self) -> int:
        return retried(self.errors)["server_errors"]

    @property
    def timeouts(self) -> int:
        return retried(self.errors)["timeouts"]

    @property
    def connection_errors(self) -> int:
        return retried(self.errors)["connection_errors"]

    def fields(self) -> dict[str, Any]:
        """The figures as log keys."""
        return {
            "removed": self.removed,
            "not_found": self.not_found,
            "in_call": self.in_call,
            "failed": self.failed,
            "pending": self.pending,
            "total": self.total,
            "requests": self.requests,
            "rate": None if self.rate is None else shown_rate(self.rate),
            "ids_per_s": round(self.ids_per_s, 1),
            "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            **retried(self.errors),
            "paused_s": round(self.paused_s, 1),
        }


class ProgressSink(Protocol):
    """Where progress goes. ``interval`` is the seconds between updates it wants."""

    @property
    def interval(self) -> float: ...

    def start(self, plan: Plan) -> None:
        """The run is about to send (after any confirmation)."""

    def update(self, progress: Progress) -> Awaitable[None] | None:
        """A new sample; may return an awaitable that the job awaits."""

    def finish(self, progress: Progress) -> None:
        """The final figures; the run is over."""


class ProgressMeter:
    """Turns the engine's counts into :class:`Progress`: pace over a sliding window, time left."""

    def __init__(
        self, total: int, *, window: float = WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self._window = window
        self._clock = clock
        self._started = clock()
        self._samples: deque[tuple[float, int]] = deque([(self._started, 0)])

    def measure(
        self,
        *,
        removed: int,
        not_found: int,
        failed: int,
        in_call: int,
        requests: int,
        rate: float | None,
        errors: Mapping[str, int] | None = None,
        paused_s: float = 0.0,
        final: bool = False,
        pending: int | None = None,
    ) -> Progress:
        """A sample now. ``pending`` defaults to what is neither answered nor waiting."""
        now = self._clock()
        done = removed + not_found + failed
        samples = self._samples
        samples.append((now, done))
        while len(samples) > 2 and samples[1][0] <= now - self._window:
            samples.popleft()
        then, before = samples[0]
        pace = (done - before) / (now - then) if now > then else 0.0
        if pending is None:
            pending = max(0, self.total - done - in_call)
        left = pending + (0 if final else in_call)
        eta = 0.0 if left == 0 else (left / pace if pace > 0 else None)
        return Progress(
            total=self.total,
            removed=removed,
            not_found=not_found,
            in_call=in_call,
            failed=failed,
            pending=pending,
            requests=requests,
            rate=rate,
            ids_per_s=pace,
            elapsed_s=now - self._started,
            eta_s=eta,
            errors=dict(errors or {}),
            paused_s=paused_s,
            final=final,
        )


class LogProgress:
    """A ``progress`` log event every ``interval`` seconds: for runs without a terminal."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._log = get_logger("progress")

    @property
    def interval(self) -> float:
        return self._interval

    def start(self, plan: Plan) -> None:
        pass

    def update(self, progress: Progress) -> None:
        self._log.info("progress", **progress.fields())

    def finish(self, progress: Progress) -> None:
        pass  # run_finished carries the final figures


class CallbackProgress:
    """Calls ``callback(progress)`` every ``interval`` seconds, and once more at the end."""

    def __init__(self, callback: Callable[[Progress], None], interval: float = 1.0) -> None:
        self._callback = callback
        self._interval = interval

    @property
    def interval(self) -> float:
        return self._interval

    def start(self, plan: Plan) -> None:
        pass

    def update(self, progress: Progress) -> None:
        self._callback(progress)

    def finish(self, progress: Progress) -> None:
        self._callback(progress)


class CurrentStderr(io.TextIOBase):
    """Writes to whatever ``sys.stderr`` is at the time of each write.

    Log lines go through this, so that while the live display has swapped ``sys.stderr`` for a
    console proxy, they are printed above the display instead of through it.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()
