"""A run's figures over time, in buckets of a width that grows with the run.

The run's cumulative figures are sampled at each commit of outcomes (see :mod:`bulkremove.tally`);
each sample's increase over the one before is added to the bucket holding its time. Buckets
start one second wide; when a sample falls past the last of ``max_buckets``, neighbours are
merged in pairs and the width doubles, so a run of any length keeps at most ``max_buckets`` rows
(an hour: 900 buckets of 4 s; ten hours: 563 of 64 s). Counts are kept whole through merges;
gauges (the rate in force, ids waiting on a call) keep the last value a bucket saw.

Pure code: times are seconds since the run began, given by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

RETRIES = (
    "throttled",
    "server_errors",
    "timeouts",
    "connection_errors",
    "retries",
    "retry_wait_s",
    "paused_s",
)
"""Failed requests by kind, retries and the seconds they waited, seconds paused by Retry-After."""
COUNTS = ("removed", "not_found", "failed", "requests", *RETRIES)
"""Figures that add up: what happened within a bucket."""
GAUGES = ("rate", "in_call")
"""Figures that stand at a time: the last value a bucket saw (``rate`` None: unlimited)."""
MAX_BUCKETS = 1000
"""Most buckets one run keeps."""
FIRST_WIDTH = 1.0
"""Seconds a bucket spans at the start of a run."""


@dataclass(slots=True)
class Bucket:
    """What happened from ``index * width`` seconds into the run, for ``width`` seconds."""

    index: int
    counts: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float | None] = field(default_factory=dict)

    def merge(self, later: Bucket) -> None:
        """Take in the bucket that follows this one."""
        for name, value in later.counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        self.gauges.update(later.gauges)


class Series:
    """The buckets of one run, fed with cumulative figures; tells which buckets changed."""

    def __init__(self, max_buckets: int = MAX_BUCKETS, width: float = FIRST_WIDTH) -> None:
        if max_buckets < 2:
            raise ValueError("a series needs room for at least two buckets")
        self.max_buckets = max_buckets
        self.width = width
        self._buckets: dict[int, Bucket] = {}
        self._last: dict[str, float] = dict.fromkeys(COUNTS, 0)
        self._changed: set[int] = set()
        self._regrouped = False

    def add(
        self, at: float, totals: Mapping[str, float], gauges: Mapping[str, float | None]
    ) -> None:
        """A sample ``at`` seconds into the run: ``totals`` since it began, ``gauges`` now.

        A total missing from ``totals`` is taken as unchanged.
        """
        index = max(0, int(at // self.width))
        while index >= self.max_buckets:
            self._regroup()
            index //= 2
        bucket = self._buckets.get(index)
        if bucket is None:
            bucket = self._buckets[index] = Bucket(index)
        for name in COUNTS:
            now = totals.get(name, self._last[name])
            step = now - self._last[name]
            self._last[name] = now
            if step:
                bucket.counts[name] = bucket.counts.get(name, 0) + step
        bucket.gauges.update(gauges)
        self._changed.add(index)

    def buckets(self) -> list[Bucket]:
        """Every bucket with a sample, in time order."""
        return [self._buckets[i] for i in sorted(self._buckets)]

    def take_changes(self) -> tuple[bool, list[Bucket]]:
        """``(regrouped, buckets)`` changed since the last call: when ``regrouped``, every
        bucket (the stored rows of the run are to be replaced), else those that changed."""
        regrouped, self._regrouped = self._regrouped, False
        changed = self.buckets() if regrouped else [self._buckets[i] for i in sorted(self._changed)]
        self._changed.clear()
        return regrouped, changed

    def _regroup(self) -> None:
        """Double the width: bucket ``i`` goes into ``i // 2``."""
        merged: dict[int, Bucket] = {}
        for index in sorted(self._buckets):
            bucket = self._buckets[index]
            into = merged.get(index // 2)
            if into is None:
                bucket.index = index // 2
                merged[index // 2] = bucket
            else:
                into.merge(bucket)
        self._buckets = merged
        self.width *= 2
        self._regrouped = True
        self._changed.clear()
