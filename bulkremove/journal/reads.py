"""Reads: the pages of pending ids a run sends, the counts a report gives, exports, meta.

Every read applies removed runs (see :mod:`bulkremove.journal.spans`): their records are
removed, whatever their rows say. A read-only journal sees what a run writing it has committed.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bulkremove.ids import MAX_ID_DIGITS
from bulkremove.journal.records import (
    CODE,
    FAILED,
    NOT_FOUND,
    PENDING,
    REMOVED,
    STATES,
    JournalRecord,
    State,
)
from bulkremove.journal.spans import IN_RUNS_BY_CAMPAIGN, Runs, Spans

_CUSTOMER_ID_COLUMN = operator.itemgetter(0)
LOST_STATES = ("not_found", "failed")
"""The final states counted apart when flagged ``answer_lost``."""
_RECORD_COLUMNS = (
    "customer_id, state, removal, attempts, first_attempt_at, last_attempt_at, first_call_at,"
    " answer_lost, detail"
)


class Reads(Spans):
    """The part of a journal that reads records, counts and meta."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock_fd: int | None, writable: bool
    ) -> None:
        super().__init__(path, connection, lock_fd, writable)
        self._counted: dict[str, tuple[int, Any]] = {}

    def campaigns(self) -> list[str]:
        """The campaigns that have records, sorted."""
        self._refresh_campaigns()
        return sorted(self._keys)

    def pending_page(self, campaign: str, after: int, limit: int) -> list[int]:
        """Up to ``limit`` pending ids of ``campaign`` greater than ``after``, ascending."""
        key = self._key_of(campaign)
        if key is None:
            return []
        with self._failing("reading pending records"):
            # one JSON text, not a tuple per row
            (text,) = self._con.execute(
                "SELECT json_group_array(customer_id) FROM (SELECT customer_id FROM records"
                " WHERE campaign_key = ? AND customer_id > ? AND state = ?"
                " ORDER BY customer_id LIMIT ?)",
                (key, after, PENDING, limit),
            ).fetchone()
        page: list[int] = orjson.loads(text)
        # already in order, so a check in one pass; text in a journal edited by hand cannot be
        # ordered among ints, and is refused by the client before anything is sent
        with contextlib.suppress(TypeError):
            page.sort()
        if page:
            runs = self._runs(key, page[0], page[-1])
            if runs:  # not during a run: its pages start past its own removed runs
                kept = [i for i in page if runs.holding(i) is None]
                if len(page) == limit and len(kept) < limit:  # fill up from beyond the page
                    kept += self.pending_page(campaign, page[-1], limit - len(kept))
                page = kept
        return page

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per campaign per state; every state is present, zeros included."""
        cached = self._cached("counts")
        if cached is not None:
            return {name: dict(numbers) for name, numbers in cached.items()}
        self._refresh_campaigns()
        result: dict[str, dict[str, int]] = {
            name: dict.fromkeys(STATES, 0) for name in sorted(self._keys)
        }
        # Most rows of a run stay pending (a removed run leaves its rows so), so rows are counted
        # by state only when not pending, and pending is the rest of each campaign's total: with
        # one campaign, that total is a count SQLite keeps without reading a row. One statement,
        # so one snapshot; in key order, with no temporary B-tree over 10^7 rows. The lost-answer
        # count comes along, since a report asks for both; so do removed runs.
        zeros = ", ".join(["0"] * (len(STATES) - 1))
        totals = (
            f"SELECT {next(iter(self._names))}, (SELECT count(*) FROM records), {zeros}, 0, 0, 0"
            if len(self._names) == 1
            else f"SELECT campaign_key, count(*), {zeros}, 0, 0, 0 FROM records"
            " GROUP BY campaign_key"
        )
        others = ", ".join(
            f"count(*) FILTER (WHERE state = {code})" for code in range(1, len(STATES))
        )
        runs = f"SELECT campaign_key, 0, {zeros}, 0, 0, n FROM ({IN_RUNS_BY_CAMPAIGN})"
        with self._failing("counting records"):
            rows = self._con.execute(
                f"{totals} UNION ALL SELECT campaign_key, 0, {others},"
                f" count(*) FILTER (WHERE state = {NOT_FOUND} AND answer_lost),"
                f" count(*) FILTER (WHERE state = {FAILED} AND answer_lost), 0"
                f" FROM records WHERE state <> {PENDING} GROUP BY campaign_key"
                f" UNION ALL {runs}"
            ).fetchall()
        lost = dict.fromkeys(LOST_STATES, 0)
        for key, total, *numbers, not_found_lost, failed_lost, in_runs in rows:
            counted = result[self._names[key]]
            counted["pending"] += total - sum(numbers) - in_runs
            for state, number in zip(STATES[1:], numbers, strict=True):
                counted[state] += number
            counted["removed"] += in_runs
            lost["not_found"] += not_found_lost
            lost["failed"] += failed_lost
        self._cache("counts", {name: dict(numbers) for name, numbers in result.items()})
        self._cache("lost", lost)
        return result

    def counts_after_lost_answer(self) -> dict[str, int]:
        """Records ``not_found`` and ``failed`` with the ``answer_lost`` flag: an attempt that
        may have removed them gave no readable answer (not found: probably removed by us)."""
        cached = self._cached("lost")
        if cached is not None:
            return dict(cached)
        with self._failing("counting records"):
            rows = self._con.execute(
                "SELECT state, count(*) FROM records WHERE state IN (?, ?) AND answer_lost"
                " GROUP BY state",
                (NOT_FOUND, FAILED),
            ).fetchall()
        lost = dict.fromkeys(LOST_STATES, 0)
        for code, count in rows:
            lost[STATES[code]] = count
        self._cache("lost", lost)
        return dict(lost)

    def call_waits(self) -> dict[str, dict[str, float]]:
        """Records that were found in a call, by their state now: how many, and how long from
        the first CALL_IN_PROGRESS to their last attempt (``mean_s``, ``longest_s``)."""
        with self._failing("reading call waits"):
            rows = self._con.execute(
                "SELECT state, count(*), avg(last_attempt_at - first_call_at),"
                " max(last_attempt_at - first_call_at) FROM records"
                " WHERE first_call_at IS NOT NULL GROUP BY state ORDER BY state"
            ).fetchall()
        return {
            STATES[code]: {"records": count, "mean_s": mean or 0.0, "longest_s": longest or 0.0}
            for code, count, mean, longest in rows
        }

    def id_widths(self, states: Iterable[State], campaign: str) -> dict[int, int]:
        """How many records of ``campaign`` in ``states`` have ids of each length in digits.

        One count per length over a range of the primary key: no id is read into Python. Ids
        that are not positive integers of up to 18 digits (a journal edited by hand) are
        counted by their length as text.
        """
        codes = sorted({CODE[state] for state in states})
        key = self._key_of(campaign)
        if not codes or key is None:
            return {}
        marks = ", ".join("?" * len(codes))
        where = f"campaign_key = ? AND state IN ({marks})"
        # records of removed runs are pending in their rows: move them to removed
        sign = (REMOVED in codes) - (PENDING in codes)
        widths: dict[int, int] = {}
        with self._failing("counting records"):
            for width in range(1, MAX_ID_DIGITS + 1):
                ends = (10 ** (width - 1), 10**width - 1)
                (count,) = self._con.execute(
                    f"SELECT count(*) FROM records WHERE {where} AND customer_id BETWEEN ? AND ?",
                    (key, *codes, *ends),
                ).fetchone()
                if sign:
                    count += sign * self._count_in_runs(key, *ends)
                if count:
                    widths[width] = count
            # below 1, and past the largest id (text sorts after numbers): ranges of the key
            for outside in ("customer_id < 1", f"customer_id > {10**MAX_ID_DIGITS - 1}"):
                for width, count in self._con.execute(
                    f"SELECT length(customer_id), count(*) FROM records WHERE {where}"
                    f" AND {outside} GROUP BY 1",
                    (key, *codes),
                ):
                    widths[width] = widths.get(width, 0) + count
        return widths

    def ids_in_states(
        self, states: Iterable[State], campaign: str | None = None
    ) -> Iterator[tuple[str, int]]:
        """Stream ``(campaign, customer id)`` of records in ``states``, by campaign then id."""
        codes = {CODE[state] for state in states}
        if codes & {PENDING, REMOVED}:
            # removed runs may turn pending rows into removed records
            for record in self.records_in_states(states, campaign):
                yield record.campaign, record.customer_id
            return
        for name, _, rows in self._chunks("customer_id", codes, campaign):
            yield from zip(itertools.repeat(name), map(_CUSTOMER_ID_COLUMN, rows))

    def records_in_states(
        self, states: Iterable[State], campaign: str | None = None
    ) -> Iterator[JournalRecord]:
        """Stream the full rows of records in ``states``, by campaign then id (for exports)."""
        codes = {CODE[state] for state in states}
        # Record ids kept per answer are looked up here, one answer read per run of its
        # records (SQL's json_extract would search the answer's text once per record). A
        # removed run keeps them by position: its records come here in key order.
        answer_id, answer = None, {}
        run_id, run_ids, position = None, [], 0
        for name, runs, rows in self._chunks(_RECORD_COLUMNS, codes, campaign):
            for cid, state, pointer, attempts, first, last, call, lost, detail in rows:
                rid = None
                if runs is not None and state == PENDING:
                    run = runs.holding(cid)
                    if run is not None:  # the update the removed run stands for
                        if run[0] != run_id:
                            run_id, run_ids, position = run[0], self._run_record_ids(run[0]), 0
                        if position < len(run_ids):
                            rid = run_ids[position]
                        position += 1
                        pointer, at = None, run[1]
                        state, attempts, last = REMOVED, attempts + 1, at
                        first = at if first is None else first
                    if state not in codes:
                        continue
                if pointer is not None:
                    if pointer != answer_id:
                        answer_id, answer = pointer, self._removal(pointer)
                    rid = answer.get(str(cid))
                yield JournalRecord(
                    name, cid, STATES[state], rid, attempts, first, last, call, bool(lost), detail
                )

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        with self._failing("reading meta"):
            row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def removed_records(self) -> dict[str, int]:
        """How many records the keys of each campaign removed, where a key may match several
        (phone numbers); campaigns with none are left out."""
        with self._failing("counting removed records"):
            rows = self._con.execute(
                "SELECT c.campaign, count(*) FROM removed_records AS x"
                " JOIN campaigns AS c ON c.id = x.campaign_key GROUP BY x.campaign_key"
            ).fetchall()
        return dict(rows)

    def record_ids_of(self, campaign: str) -> dict[int, list[int]]:
        """The record ids each key of ``campaign`` removed, where a key may match several."""
        self._refresh_campaigns()
        key = self._keys.get(campaign)
        with self._failing("reading record ids"):
            rows = self._con.execute(
                "SELECT key, json_group_array(record_id) FROM removed_records"
                " WHERE campaign_key = ? GROUP BY key",
                (key,),
            ).fetchall()
        return {k: orjson.loads(ids) for k, ids in rows}

    def _removal(self, removal: int) -> dict[str, int]:
        """The record ids kept for one answer, by customer id as text."""
        with self._failing("reading record ids"):
            row = self._con.execute(
                "SELECT record_ids FROM removals WHERE id = ?", (removal,)
            ).fetchone()
        found: dict[str, int] = orjson.loads(row[0]) if row else {}
        return found

    def _chunks(
        self, columns: str, codes: set[int], campaign: str | None
    ) -> Iterator[tuple[str, Runs | None, list[Any]]]:
        """``(campaign, removed runs, rows)`` in chunks, by campaign then id.

        Rows are those of records in the states ``codes``; when the campaign has removed runs
        and pending or removed records are asked for, they are given along with every pending
        row, for the caller to resolve.
        """
        if not codes:
            return
        self._refresh_campaigns()
        names = sorted(self._keys) if campaign is None else [campaign]
        for name in names:
            key = self._keys.get(name)
            if key is None:
                continue
            runs = None
            if codes & {PENDING, REMOVED}:
                # read before the rows: a run committed in between leaves its records pending
                # here, never removed twice
                runs = self._runs(key)
            wanted = sorted(codes | {PENDING} if runs else codes)
            marks = ", ".join("?" * len(wanted))
            with self._failing("reading records"):
                cursor = self._con.execute(
                    f"SELECT {columns} FROM records"
                    f" WHERE campaign_key = ? AND state IN ({marks}) ORDER BY customer_id",
                    (key, *wanted),
                )
            try:
                while True:
                    with self._failing("reading records"):
                        rows = cursor.fetchmany(10_000)
                    if not rows:
                        break
                    yield name, runs, rows
            finally:
                cursor.close()

    def _cached(self, name: str) -> Any:
        """A count made since the last change to records by this connection, or None.

        Only a writable journal caches: it holds the lock, so nothing else changes its records.
        Reports count twice at the end of a run, with only meta written in between.
        """
        if not self.writable:
            return None
        version, value = self._counted.get(name, (-1, None))
        return value if version == self._con.total_changes - self._meta_changes else None

    def _cache(self, name: str, value: Any) -> None:
        if self.writable:
            self._counted[name] = (self._con.total_changes - self._meta_changes, value)
