"""Removed runs: a batch of fresh ids all removed, kept as one row instead of a row per record.

When every id of a batch of fresh ids comes back REMOVED, and those ids are every pending record
of their campaign from the first to the last (checked), the answer's ``removals`` row also keeps
that range (``lo``, ``hi``), the answer's time ``at`` and the number of records ``n``, and the
records' own rows are left as they were: writing hundreds of rows per answer was most of a run's
journal time. Its ``record_ids`` are then a JSON array in the key order of the run's records,
which are known: the pending ones of its range. Such a row stands for the update it saves: every
record of the campaign in ``lo..hi`` whose row says ``pending`` is removed, with one attempt
more, at ``at``. Every reader, and ``records_view``, applies it. The saved updates are made
("folded": the rows written, ``record_ids`` made an object like any answer's, ``lo``/``hi``
cleared) when a journal is opened for writing again, and before any write that touches a record
in such a range, so a run never leaves them pending for another run to find.

This module owns that optimisation and its SQL: :class:`Spans` is the part of a journal that
keeps, finds, counts and folds removed runs.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

from bulkremove.journal.connection import Connection, json_ids, json_object
from bulkremove.journal.records import PENDING, REMOVED

# The removed run whose range may hold an id: the first by its last id (runs do not overlap).
_RUN_OF = """(SELECT u2.id FROM removals AS u2 WHERE u2.campaign_key = {key}
    AND u2.hi >= {id} ORDER BY u2.hi LIMIT 1)"""
# Records as they stand, removed runs applied: ``r`` the row, ``u`` the run holding it if any,
# ``m`` the answer with its record id. Used by ``records_view``.
RESOLVED_FROM = f"""records AS r
LEFT JOIN removals AS u ON r.state = {PENDING}
    AND u.id = {_RUN_OF.format(key="r.campaign_key", id="r.customer_id")}
    AND u.lo <= r.customer_id
LEFT JOIN removals AS m ON m.id = r.removal"""
RESOLVED = {
    "state": f"iif(u.id IS NULL, r.state, {REMOVED})",
    # in a removed run, by position: the offset from its first id when the run has every id of
    # its range, else the number of its records before this one
    "record_id": f"""iif(u.id IS NULL,
           json_extract(m.record_ids, '$."' || r.customer_id || '"'),
           json_extract(u.record_ids, '$[' || iif(u.hi - u.lo + 1 = u.n, r.customer_id - u.lo,
               (SELECT count(*) FROM records AS r2
                WHERE r2.campaign_key = r.campaign_key AND r2.state = {PENDING}
                AND r2.customer_id >= u.lo AND r2.customer_id < r.customer_id)) || ']'))""",
    "attempts": "r.attempts + (u.id IS NOT NULL)",
    "first_attempt_at": "coalesce(r.first_attempt_at, u.at)",
    "last_attempt_at": "iif(u.id IS NULL, r.last_attempt_at, u.at)",
}
# The pending records of a run of ids, by its first and last id (?7, ?8; ?6 the campaign key):
# numbered to share the parameters of an outcome's update.
WHERE_RUN = f"campaign_key = ?6 AND customer_id BETWEEN ?7 AND ?8 AND state = {PENDING}"
# Those records as one JSON array in key order: compared with the ids as text, an exact test
# that costs SQLite one scan and Python one dumps.
_CHECK_RUN = (
    f"SELECT json_group_array(customer_id) FROM (SELECT customer_id FROM records"
    f" WHERE {WHERE_RUN} ORDER BY customer_id)"
)
_ADD_RUN = (
    "INSERT INTO removals (campaign_key, record_ids, lo, hi, at, n) VALUES (?, ?, ?, ?, ?, ?)"
)
# Removed runs not yet folded: those whose range holds any of some ids (?1 campaign key, ?2 ids
# as a JSON array), and the first whose range ends at or after an id.
_RUNS_HOLDING = f"""SELECT DISTINCT u.id FROM json_each(?2) AS j JOIN removals AS u
    ON u.id = {_RUN_OF.format(key="?1", id="j.value")} AND u.lo <= j.value"""
_RUN_FROM = "SELECT id, lo FROM removals WHERE campaign_key = ? AND hi >= ? ORDER BY hi LIMIT 1"
# Records of removed runs of a campaign (?1) with ids from ?2 to ?3: the runs first, each
# walking only its own range (CROSS JOIN fixes that order).
_COUNT_IN_RUNS = f"""SELECT count(*) FROM removals AS u CROSS JOIN records AS r
    ON r.campaign_key = u.campaign_key AND r.state = {PENDING}
    AND r.customer_id BETWEEN max(u.lo, ?2) AND min(u.hi, ?3)
    WHERE u.campaign_key = ?1 AND u.hi >= ?2 AND u.lo <= ?3"""
# The records of a removed run's range that it removed: pending ones, as a JSON array in key order.
_RUN_IDS = f"""SELECT json_group_array(customer_id) FROM (SELECT customer_id FROM records
    WHERE campaign_key = ? AND customer_id BETWEEN ? AND ? AND state = {PENDING}
    ORDER BY customer_id)"""
_FOLD = f"""UPDATE records SET state = {REMOVED}, attempts = attempts + 1,
    first_attempt_at = coalesce(first_attempt_at, ?1), last_attempt_at = ?1, removal = ?2
    WHERE campaign_key = ?3 AND customer_id BETWEEN ?4 AND ?5 AND state = {PENDING}"""
# Records of removed runs, per campaign: what counts move from pending to removed.
IN_RUNS_BY_CAMPAIGN = (
    "SELECT campaign_key, sum(n) AS n FROM removals WHERE hi IS NOT NULL GROUP BY campaign_key"
)


class Runs:
    """Removed runs of one campaign, not yet folded: which one holds an id."""

    def __init__(self, rows: list[tuple[int, int, int, float]]) -> None:
        self._rows = rows  # (hi, lo, removals id, at), by hi; the ranges do not overlap
        self._ends = [row[0] for row in rows]

    def holding(self, customer_id: int) -> tuple[int, float] | None:
        """``(removals id, at)`` of the run whose range holds ``customer_id``, or None."""
        k = bisect.bisect_left(self._ends, customer_id)
        if k == len(self._rows) or self._rows[k][1] > customer_id:
            return None
        _, _, run, at = self._rows[k]
        return run, at


class Spans(Connection):
    """The part of a journal that keeps, finds, counts and folds removed runs."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock_fd: int | None, writable: bool
    ) -> None:
        super().__init__(path, connection, lock_fd, writable)
        self._unfolded: set[int] = set()  # campaign keys with removed runs not yet folded
        self._load_unfolded()

    def fold_runs(self) -> int:
        """Fold every removed run into its records' rows, in one transaction; return how many."""
        self._check_writable()
        if not self._unfolded:
            return 0
        con = self._con
        with self._failing("folding removed runs"):
            con.execute("BEGIN IMMEDIATE")
            try:
                runs = con.execute("SELECT id FROM removals WHERE hi IS NOT NULL").fetchall()
                self._fold(runs)
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                raise
            finally:
                self._load_unfolded()
        return len(runs)

    def _load_unfolded(self) -> None:
        rows = self._con.execute(
            "SELECT DISTINCT campaign_key FROM removals WHERE hi IS NOT NULL"
        ).fetchall()
        self._unfolded = {key for (key,) in rows}

    def _runs(self, key: int, first: int | None = None, last: int | None = None) -> Runs | None:
        """The campaign's removed runs not yet folded (those meeting ``first..last`` if given);
        None if there are none."""
        where = "campaign_key = ? AND hi IS NOT NULL"
        params: tuple[int, ...] = (key,)
        if first is not None and last is not None:
            where = "campaign_key = ? AND hi >= ? AND lo <= ?"
            params = (key, first, last)
        with self._failing("reading removed runs"):
            rows = self._con.execute(
                f"SELECT hi, lo, id, at FROM removals WHERE {where} ORDER BY hi", params
            ).fetchall()
        return Runs(rows) if rows else None

    def _run_record_ids(self, run: int) -> list[int | None]:
        """The record ids kept for a removed run, in the key order of its records."""
        with self._failing("reading record ids"):
            row = self._con.execute("SELECT record_ids FROM removals WHERE id = ?", (run,))
            found = row.fetchone()
        kept: list[int | None] = orjson.loads(found[0]) if found else []
        return kept

    def _count_in_runs(self, key: int, first: int, last: int) -> int:
        """How many records of the campaign with ids in ``first..last`` removed runs hold."""
        (count,) = self._con.execute(_COUNT_IN_RUNS, (key, first, last)).fetchone()
        return int(count)

    def _is_run(self, key: int, ids: Sequence[int]) -> bool:
        """Whether the pending records of ``ids[0]..ids[-1]`` are ``ids``, no more, no fewer.

        Batches of fresh ids are runs by construction; the check keeps a mistake there from
        touching, or leaving removed on paper, a record it should not.
        """
        (found,) = self._con.execute(
            _CHECK_RUN, (None, None, None, None, None, key, ids[0], ids[-1])
        ).fetchone()
        return bool(found == json_ids(ids))

    def _may_defer(self, key: int, ids: Sequence[int]) -> bool:
        """Whether a run of ``ids`` may be kept as a removed run: it must overlap no other.

        Runs it overlaps are folded, and False sends the caller to write the rows.
        """
        if key not in self._unfolded:
            return True
        first = self._con.execute(_RUN_FROM, (key, ids[0])).fetchone()
        if first is None or first[1] > ids[-1]:
            return True  # the first run ending in or after the range starts after it
        self._fold(
            self._con.execute(
                "SELECT id FROM removals WHERE campaign_key = ? AND hi >= ? AND lo <= ?",
                (key, ids[0], ids[-1]),
            ).fetchall()
        )
        return False

    def _keep_run(self, key: int, ids: Sequence[int], record_ids: Sequence[int], at: float) -> None:
        """Keep a checked run of removed ``ids`` as one row (in the caller's transaction)."""
        # the record ids alone, in key order: the run's ids are its range's
        kept = json_ids(record_ids)
        self._con.execute(_ADD_RUN, (key, kept, ids[0], ids[-1], at, len(ids)))
        self._unfolded.add(key)

    def _fold_holding(self, key: int, ids: Sequence[int]) -> None:
        """Fold the removed runs holding any of ``ids``, before those records change."""
        if key in self._unfolded:
            self._fold(self._con.execute(_RUNS_HOLDING, (key, json_ids(ids))).fetchall())

    def _fold(self, runs: Iterable[tuple[int]]) -> None:
        """Make the updates that removed runs stand for (in the caller's transaction)."""
        con = self._con
        for (run,) in runs:
            key, lo, hi, at, kept = con.execute(
                "SELECT campaign_key, lo, hi, at, record_ids FROM removals WHERE id = ?", (run,)
            ).fetchone()
            # the record ids by position become {customer id: record id}, as for any answer
            (ids,) = con.execute(_RUN_IDS, (key, lo, hi)).fetchone()
            pairs = zip(orjson.loads(ids), orjson.loads(kept), strict=False)  # equal lengths
            mapping = json_object(dict(pairs))
            con.execute(_FOLD, (at, run, key, lo, hi))
            con.execute(
                "UPDATE removals SET record_ids = ?, lo = NULL, hi = NULL WHERE id = ?",
                (mapping, run),
            )
