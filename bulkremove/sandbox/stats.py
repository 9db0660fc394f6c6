"""Counters of what the sandbox was asked and what it answered, for tests and benchmarks."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from bulkremove.sandbox.state import Outcome


class Stats:
    """Counts API requests (the admin endpoints are not counted).

    ``ids_requested`` counts the ids of requests that got a per-id answer, duplicates included;
    ``by_outcome`` counts the entries of those answers. For the phone-number delete they count
    numbers asked, records removed and list entries, and ``phone_deletes`` its answered requests.
    ``gets`` counts listing and single-record GETs answered, ``adds`` records added through the
    API. ``dropped`` counts answers withheld by the drop fault (they have no status).
    ``per_second`` counts answers by whole seconds since the first request arrived:
    ``[accepted, throttled]`` (throttled: 429).
    """

    __slots__ = (
        "_clock",
        "_first",
        "_last",
        "_window",
        "adds",
        "by_outcome",
        "by_status",
        "dropped",
        "gets",
        "ids_removed",
        "ids_requested",
        "in_flight",
        "max_requests_in_1s",
        "max_target_length_seen",
        "peak_in_flight",
        "per_second",
        "phone_deletes",
        "requests",
    )

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._window: deque[float] = deque()
        self._first: float | None = None
        self._last = 0.0
        self.per_second: list[list[int]] = []
        self.requests = 0
        self.ids_requested = 0
        self.ids_removed = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.dropped = 0
        self.gets = 0
        self.adds = 0
        self.phone_deletes = 0
        self.by_status: dict[int, int] = {}
        self.by_outcome: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        self.max_target_length_seen = 0
        self.max_requests_in_1s = 0

    def started(self, target_length: int) -> None:
        """Count a request as it arrives."""
        now = self._clock()
        if self._first is None:
            self._first = now
        self.requests += 1
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        if target_length > self.max_target_length_seen:
            self.max_target_length_seen = target_length
        window = self._window
        window.append(now)
        # Requests in the one-second window ending now, the one just received included.
        while now - window[0] >= 1.0:
            window.popleft()
        if len(window) > self.max_requests_in_1s:
            self.max_requests_in_1s = len(window)

    def finished(self, status: int | None) -> None:
        """Count a request's end; ``status`` None when no answer was sent."""
        self.in_flight -= 1
        if self._first is not None:
            self._last = self._clock() - self._first
            second = int(self._last)
            while len(self.per_second) <= second:
                self.per_second.append([0, 0])
            if status is not None:
                self.per_second[second][status == 429] += 1
        if status is None:
            self.dropped += 1
        else:
            self.by_status[status] = self.by_status.get(status, 0) + 1

    def answered(self, requested: int, removed: int, not_exist: int, in_call: int) -> None:
        """Count the ids of one per-id answer."""
        self.ids_requested += requested
        self.ids_removed += removed
        by_outcome = self.by_outcome
        by_outcome[Outcome.REMOVED] += removed
        by_outcome[Outcome.NOT_EXIST] += not_exist
        by_outcome[Outcome.CALL_IN_PROGRESS] += in_call

    def answered_numbers(self, requested: int, counts: dict[Outcome, int]) -> None:
        """Count one answer of the phone-number delete: numbers asked, entries of each outcome."""
        self.phone_deletes += 1
        self.ids_requested += requested
        self.ids_removed += counts[Outcome.REMOVED]
        for outcome, n in counts.items():
            self.by_outcome[outcome] += n

    def snapshot(self, remaining: dict[str, int]) -> dict[str, object]:
        """The JSON shape of ``GET /_sandbox/stats``."""
        return {
            "requests": self.requests,
            "ids_requested": self.ids_requested,
            "ids_removed": self.ids_removed,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "dropped": self.dropped,
            "by_status": {str(status): n for status, n in sorted(self.by_status.items())},
            "by_outcome": {outcome.value: n for outcome, n in self.by_outcome.items()},
            "max_target_length_seen": self.max_target_length_seen,
            "max_requests_in_1s": self.max_requests_in_1s,
            "gets": self.gets,
            "adds": self.adds,
            "phone_deletes": self.phone_deletes,
            "sending_s": round(self._last, 3),
            "per_second": self.per_second,
            "remaining": remaining,
        }
