"""A run's requests and time, kept in the journal as the run goes.

They add up over every run of a journal (a resume adds to them). They are written with each
group commit of outcomes, so that the report of a killed run shows what it really sent, not
what the runs before it did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bulkremove.journal import Journal, OutcomeGroup

if TYPE_CHECKING:
    from bulkremove.engine.protocols import Pages  # the engine loads once it is needed


class Tally:
    """The journal's ``requests`` and ``duration_s``: what earlier runs left, plus this run."""

    def __init__(self, journal: Journal, clock: Callable[[], float] = time.monotonic) -> None:
        self._journal = journal
        self._clock = clock
        self._started = clock()
        self._requests = int(journal.get_meta("requests") or 0)
        self._duration = float(journal.get_meta("duration_s") or 0.0)
        self.requests: Callable[[], int] = lambda: 0
        """This run's requests so far (the engine's count, once there is an engine)."""

    def write(self) -> None:
        """Store the totals now (one transaction)."""
        self._journal.set_metas(
            {
                "requests": self._requests + self.requests(),
                "duration_s": self._duration + self._clock() - self._started,
            }
        )


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
