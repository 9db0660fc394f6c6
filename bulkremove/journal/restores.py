"""Restores: the records a journal removed, added back, one row each in ``restores``.

A row is made ``pending`` before its record is first sent; each try adds to ``attempts`` before
it is sent, and the answer makes it ``restored`` (with the new record id), ``already_present``
(the campaign held it: someone put it back, or a try whose answer was lost did) or ``failed``
(with the answer), each committed as it comes. So a killed restore continues with the rows
still pending, and a row tried before knows that its ALREADY_EXISTS may be its own addition.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import orjson

from bulkremove.journal.connection import Connection
from bulkremove.journal.records import CODE, REMOVED

RESTORE_STATES = ("pending", "restored", "already_present", "failed")
"""A restored record's states; only ``pending`` ones are sent."""


class Snapshot(NamedTuple):
    """A removed record as the journal's snapshot (``listed``) holds it; ``key`` as listed
    (:attr:`bulkremove.kinds.Kind.listed_value`)."""

    record_id: int
    key: int | str
    fields: dict[str, Any]


class RestoreOutcome(NamedTuple):
    """What one add answered of one record."""

    record_id: int
    state: str
    new_record_id: int | None
    detail: str | None


class Restores(Connection):
    """The part of a journal that keeps a restore of its removed records."""

    def has_snapshot(self) -> bool:
        """Whether the journal holds any listed record to restore from."""
        with self._failing("reading the snapshot"):
            return self._con.execute("SELECT 1 FROM listed LIMIT 1").fetchone() is not None

    def snapshots(
        self, campaign: str, states: Sequence[str], several: bool
    ) -> tuple[list[Snapshot], int]:
        """The snapshots of ``campaign``'s records in ``states``, by record id, and how many
        such records the snapshot lacks. ``several``: a key may match several records, and
        the removed ones are those of ``removed_records``."""
        key = self._key_of(campaign)
        if key is None:
            return [], 0
        codes = [CODE[state] for state in states]
        by_key = [code for code in codes if not (several and code == REMOVED)]
        parts, lacking = [], 0
        with self._failing("reading the snapshot"):
            if several and REMOVED in codes:
                parts.append(
                    "SELECT l.record_id, l.key, l.fields FROM removed_records AS x JOIN listed"
                    " AS l ON l.campaign_key = x.campaign_key AND l.record_id = x.record_id"
                    f" WHERE x.campaign_key = {key}"
                )
                (removed,) = self._con.execute(
                    "SELECT count(*) FROM removed_records WHERE campaign_key = ?", (key,)
                ).fetchone()
                lacking += removed
            if by_key:
                marks = ", ".join(str(code) for code in by_key)
                # a phone number is listed as text, and keyed in records behind a sentinel 1
                keyed = "substr(r.customer_id, 2)" if several else "r.customer_id"
                parts.append(
                    "SELECT l.record_id, l.key, l.fields FROM records AS r JOIN listed AS l"
                    f" ON l.campaign_key = r.campaign_key AND l.key = {keyed}"
                    f" WHERE r.campaign_key = {key} AND r.state IN ({marks})"
                )
                (keys,) = self._con.execute(
                    f"SELECT count(*) FROM records WHERE campaign_key = ? AND state IN ({marks})",
                    (key,),
                ).fetchone()
                lacking += keys
            if not parts:
                return [], 0
            rows = self._con.execute(" UNION ".join(parts) + " ORDER BY 1").fetchall()
        found = [Snapshot(rid, value, orjson.loads(fields)) for rid, value, fields in rows]
        return found, max(0, lacking - len(found))

    def restore_rows(self, campaign: str) -> dict[int, tuple[str, int]]:
        """``{record id: (state, attempts)}`` of ``campaign``'s restore so far."""
        key = self._key_of(campaign)
        if key is None:
            return {}
        with self._failing("reading the restore"):
            rows = self._con.execute(
                "SELECT record_id, state, attempts FROM restores WHERE campaign_key = ?", (key,)
            ).fetchall()
        return {rid: (state, attempts) for rid, state, attempts in rows}

    def add_restores(self, campaign: str, rows: Iterable[tuple[int, int]]) -> None:
        """Make a pending row for each ``(record id, key)`` of ``campaign`` that has none."""
        self._write(
            "adding records to restore",
            "INSERT OR IGNORE INTO restores (campaign_key, record_id, key) VALUES (?, ?, ?)",
            campaign,
            lambda key, now: ((key, rid, value) for rid, value in rows),
        )

    def restore_sent(self, campaign: str, record_ids: Iterable[int]) -> None:
        """Count a try of each of ``record_ids``, before it is sent."""
        self._write(
            "counting a try",
            "UPDATE restores SET attempts = attempts + 1, at = ?"
            " WHERE campaign_key = ? AND record_id = ?",
            campaign,
            lambda key, now: ((now, key, rid) for rid in record_ids),
        )

    def record_restores(self, campaign: str, outcomes: Iterable[RestoreOutcome]) -> None:
        """Keep what the API answered of each record, in one transaction."""
        self._write(
            "keeping restore outcomes",
            "UPDATE restores SET state = ?, new_record_id = ?, detail = ?, at = ?"
            " WHERE campaign_key = ? AND record_id = ?",
            campaign,
            lambda key, now: (
                (o.state, o.new_record_id, o.detail, now, key, o.record_id) for o in outcomes
            ),
        )

    def restore_counts(self) -> dict[str, int]:
        """Rows per restore state, every state present."""
        with self._failing("counting the restore"):
            rows = self._con.execute("SELECT state, count(*) FROM restores GROUP BY state")
            found = dict(rows.fetchall())
        return {state: found.get(state, 0) for state in RESTORE_STATES}

    def restores(self, state: str | None = None) -> Iterator[tuple[str, int, str, int | None, str]]:
        """``(campaign, key, state, new record id, detail)`` of each row (in ``state``)."""
        self._refresh_campaigns()
        with self._failing("reading the restore"):
            rows = self._con.execute(
                "SELECT campaign_key, key, state, new_record_id, coalesce(detail, '')"
                " FROM restores WHERE ?1 IS NULL OR state = ?1 ORDER BY campaign_key, record_id",
                (state,),
            ).fetchall()
        for key, value, name, rid, detail in rows:
            yield self._names[key], value, name, rid, detail

    def _write(
        self,
        action: str,
        sql: str,
        campaign: str,
        params: Callable[[int, float], Iterable[tuple[Any, ...]]],
    ) -> None:
        """Run ``sql`` for each row ``params(campaign's key, now)`` gives, in one transaction."""
        self._check_writable()
        con = self._con
        with self._failing(action):
            con.execute("BEGIN IMMEDIATE")
            try:
                con.executemany(sql, params(self._campaign_key(campaign), time.time()))
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                self._load_campaigns()
                raise
