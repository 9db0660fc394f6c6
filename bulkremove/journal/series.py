"""The series: a run's figures over time, one row per bucket (see :mod:`bulkremove.series`).

Rows are written with the run's tally, in the transaction after each commit of outcomes. Each
run of a journal (a resume is another) has its own rows, told apart by ``run``; ``at`` is the
bucket's start in unix seconds and ``width`` its length, so the rows of a run tile its time.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from bulkremove.journal.connection import Connection
from bulkremove.series import COUNTS, GAUGES, Bucket

COLUMNS = ("run", "at", "width", *COUNTS, *GAUGES)
"""The columns of a ``series`` row, in order."""


class SeriesRows(Connection):
    """The part of a journal that keeps each run's series."""

    def next_series_run(self) -> int:
        """The number the next run's rows go under: one past the last run's."""
        with self._failing("reading the series"):
            (last,) = self._con.execute("SELECT coalesce(max(run), 0) FROM series").fetchone()
        return int(last) + 1

    def write_tally(
        self,
        metas: Mapping[str, object],
        run: int,
        started_at: float,
        width: float,
        buckets: Sequence[Bucket],
        *,
        regrouped: bool = False,
    ) -> None:
        """Store ``metas`` and the changed ``buckets`` of ``run`` in one transaction; when
        ``regrouped``, the run's rows are replaced by ``buckets``."""
        self._check_writable()
        rows = [
            (
                run,
                started_at + bucket.index * width,
                width,
                *(bucket.counts.get(name, 0) for name in COUNTS),
                *(bucket.gauges.get(name) for name in GAUGES),
            )
            for bucket in buckets
        ]
        marks = ", ".join("?" * len(COLUMNS))
        with self._failing("writing the tally"):
            self._con.execute("BEGIN")
            try:
                before = self._con.total_changes
                if regrouped:
                    self._con.execute("DELETE FROM series WHERE run = ?", (run,))
                self._con.executemany(
                    f"INSERT OR REPLACE INTO series ({', '.join(COLUMNS)}) VALUES ({marks})", rows
                )
                # like meta, the series leaves the records' counts as they were
                self._meta_changes += self._con.total_changes - before
                self.set_metas(metas)
                self._con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back
                    self._con.execute("ROLLBACK")
                raise

    def series(self) -> list[dict[str, Any]]:
        """Every run's rows, by run then time, as dicts of :data:`COLUMNS`."""
        with self._failing("reading the series"):
            rows = self._con.execute(
                f"SELECT {', '.join(COLUMNS)} FROM series ORDER BY run, at"
            ).fetchall()
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
