"""A run's requests and time, and its figures over time, kept in the journal as the run goes.

The requests and time add up over every run of a journal (a resume adds to them). They are
written with each group commit of outcomes, so that the report of a killed run shows what it
really sent, not what the runs before it did. Each write also samples the run's figures into
its series (:mod:`bulkremove.series`) and stores the buckets that changed, in the same
transaction: a sample per commit, never per id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bulkremove.journal import Journal, OutcomeGroup
from bulkremove.progress import retried
from bulkremove.series import Series

if TYPE_CHECKING:
    from bulkremove.engine import Engine  # the engine loads once it is needed
    from bulkremove.engine.protocols import Pages

Figures = tuple[Mapping[str, float], Mapping[str, float | None]]
"""A run's totals so far and its gauges now, as :meth:`bulkremove.series.Series.add` takes them."""


class Tally:
    """The journal's ``requests`` and ``duration_s``: what earlier runs left, plus this run."""

    def __init__(
        self,
        journal: Journal,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._journal = journal
        self._clock = clock
        self._started = clock()
        self._started_at = wall_clock()
        self._requests = int(journal.get_meta("requests") or 0)
        self._duration = float(journal.get_meta("duration_s") or 0.0)
        self._run = journal.next_series_run()
        self.series = Series()
        self.figures: Callable[[], Figures | None] = lambda: None
        """This run's figures so far (the engine's, once there is an engine)."""

    def write(self) -> None:
        """Store the totals now, and the series' changed buckets (one transaction)."""
        now = self._clock() - self._started
        figures = self.figures()
        if figures is not None:
            self.series.add(now, *figures)
        regrouped, buckets = self.series.take_changes()
        totals = figures[0] if figures else {}
        self._journal.write_tally(
            {
                "requests": self._requests + int(totals.get("requests", 0)),
                "duration_s": self._duration + now,
            },
            self._run,
            self._started_at,
            self.series.width,
            buckets,
            regrouped=regrouped,
        )


def engine_figures(engine: Engine) -> Figures:
    """What ``engine`` has done so far, and its gauges now, as the series keeps them."""
    stats = engine.stats
    committed = stats.committed
    totals: dict[str, float] = {
        "removed": committed.get("removed", 0),
        "not_found": committed.get("not_found", 0),
        "failed": committed.get("failed", 0),
        "requests": stats.requests,
        **retried(dict(stats.by_error)),
        "retries": stats.retries,
        "retry_wait_s": stats.retry_wait_s,
        "paused_s": engine.paused_s,
    }
    return totals, {"rate": engine.rate, "in_call": engine.waiting_on_calls}


class TallyingStore:
    """The journal as the engine's store; each commit of outcomes also writes the tally."""

    def __init__(self, journal: Journal, tally: Tally) -> None:
        self._journal = journal
        self._tally = tally

    @property
    def path(self) -> Path:
        return self._journal.path

    def open(self, path: Path) -> Pages:
        return self._journal.open(path)

    def campaigns(self) -> list[str]:
        return self._journal.campaigns()

    def pending_page(self, campaign: str, after: int, limit: int) -> list[int]:
        return self._journal.pending_page(campaign, after, limit)

    def record_groups(self, groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        changed = self._journal.record_groups(groups)
        self._tally.write()
        return changed

    def mark_sent(self, campaign: str, up_to: int) -> None:
        self._journal.mark_sent(campaign, up_to)

    def clear_sent(self) -> None:
        self._journal.clear_sent()

    def close(self) -> None:
        self._journal.close()
