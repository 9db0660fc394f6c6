"""The journal: the run's single source of truth, a SQLite file. The only module with SQL.

Schema (version 3), readable from the ``sqlite3`` shell::

    meta(key TEXT PRIMARY KEY, value TEXT)          -- every value is JSON
    campaigns(id INTEGER PRIMARY KEY, campaign TEXT UNIQUE)
    states(code INTEGER PRIMARY KEY, name TEXT UNIQUE)  -- 0 pending, 1 removed, 2 not_found,
                                                        -- 3 in_call, 4 failed
    records(campaign_key, customer_id, state, record_id, attempts, first_attempt_at,
            last_attempt_at, first_call_at, answer_lost, detail, removal)  WITHOUT ROWID,
            PRIMARY KEY (campaign_key, customer_id)
    removals(id INTEGER PRIMARY KEY, campaign_key, record_ids TEXT,  -- one row per answer
             lo, hi, at, n)                         -- a removed run not yet folded, see below
    records_view                                    -- records as they stand: names, ISO times,
                                                    -- record ids, removed runs applied

``records`` stores the campaign as a small key into ``campaigns`` and the state as a code, so a row
of a pending record takes about 20 bytes (10,000,000 rows: about 200 MB). The primary key is how
duplicates are dropped and gives each campaign's ids in ascending order for keyset pagination.
Times are unix seconds (REAL). ``attempts`` counts requests that carried the record;
``first_call_at`` is the first CALL_IN_PROGRESS answer (the engine's call deadline starts there);
``answer_lost`` says an earlier attempt's answer never arrived, so a later NOT_EXIST may mean that
attempt removed the record; ``detail`` is the last unexpected answer or reason, verbatim.

Record ids: an answer's ``{customer id: record id}`` is one row of ``removals`` (as JSON), and
``records.removal`` points each record to it; ``records.record_id`` holds only what schema 1
wrote. ``records_view`` shows either.

Removed runs: when every id of a batch of fresh ids comes back REMOVED, and those ids are every
pending record of their campaign from the first to the last (checked), the answer's ``removals``
row also keeps that range (``lo``, ``hi``), the answer's time ``at`` and the number of records
``n``, and the records' own rows are left as they were: writing hundreds of rows per answer was
most of a run's journal time. Its ``record_ids`` are then a JSON array in the key order of the
run's records, which are known: the pending ones of its range. Such a row stands for the update
it saves: every record of the campaign in ``lo..hi`` whose row says ``pending`` is removed, with
one attempt more, at ``at``. Every reader here, and ``records_view``, applies it. The saved
updates are made ("folded": the rows written, ``record_ids`` made an object like any answer's,
``lo``/``hi`` cleared) when a journal is opened for writing again, and before any write that
touches a record in such a range, so a run never leaves them pending for another run to find.

Schemas 1 and 2 are read as they are and upgraded when opened to be resumed.

Meta keys written here: ``schema_version``, ``tool``, ``tool_version``, ``created_at`` and
``settings`` (the run's effective settings, never the password). Callers add others (input
statistics, ``finished_at``, ``exit_code``) with :meth:`Journal.set_meta`.

``PRAGMA application_id`` marks the file as a bulkremove journal and ``PRAGMA user_version``
holds the schema version: a file of another program, or of a newer schema, is refused.

Durability: WAL with ``synchronous=NORMAL``. A committed transaction is in the WAL file when the
commit returns, so it survives the process being killed (even SIGKILL); only an OS crash or power
loss can lose the last commits, never corrupt the file. :meth:`Journal.add_pending` alone runs
in rollback-journal mode (as atomic, and the new pages are written once) and returns to WAL.

One writer at a time: :meth:`Journal.create` and ``Journal.open(path, write=True)`` hold an
exclusive ``flock`` on ``<journal>.lock``, which holds the holder's pid. The lock file is left in
place on close (removing it would race with a process about to lock it). Read-only opens (report,
export) take no lock; WAL lets them read while a run writes.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import itertools
import json
import operator
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self, cast

import orjson

from bulkremove._version import __version__
from bulkremove.errors import JournalError
from bulkremove.ids import MAX_ID_DIGITS

APPLICATION_ID = int.from_bytes(b"BRMJ", "big")
SCHEMA_VERSION = 3
TOOL = "bulkremove"

State = Literal["pending", "removed", "not_found", "in_call", "failed"]
STATES: tuple[State, ...] = ("pending", "removed", "not_found", "in_call", "failed")
_CODE: dict[str, int] = {name: code for code, name in enumerate(STATES)}
PENDING, REMOVED, NOT_FOUND, IN_CALL, FAILED = range(len(STATES))

_SQLITE_MAGIC = b"SQLite format 3\x00"
_LOCK_SUFFIX = ".lock"
_WAL_LIMIT = 64 << 20  # bytes the WAL file is cut back to after a checkpoint
_SORT_THREADS = 2  # helper threads for SQLite's sorter when merging a large ingest
_HELD_IDS = 1 << 20
"""Ids an ingest holds as JSON text before it stages them in SQLite instead.

Held, they are sorted by one statement: 0.71 against 0.87 s at 10^6 ids, for some 40 MiB more
at the peak (the text, and SQLite's parse of it).
"""


class JournalUpdate(NamedTuple):
    """One attempt's outcome for one record, applied by :meth:`Journal.record_outcomes`.

    ``state`` is the record's new state: ``pending`` when it will be tried again (a retry after
    CALL_IN_PROGRESS, or a transient failure). ``at`` is the attempt's time in unix seconds.
    ``in_call`` marks a CALL_IN_PROGRESS answer: ``first_call_at`` is set if still unset.
    ``answer_lost`` marks an attempt whose answer never came (time-out, dropped connection); the
    flag stays set for good. ``detail`` is the raw answer or reason for anything unexpected; None
    keeps the previous detail. ``record_id`` None keeps the previous one.
    """

    campaign: str
    customer_id: int
    state: State
    at: float
    record_id: int | None = None
    in_call: bool = False
    answer_lost: bool = False
    detail: str | None = None


class OutcomeGroup(NamedTuple):
    """One outcome shared by several distinct records of a campaign: what one answer gives.

    The engine's unit of work for the journal (a batch's ids stay one list, not a tuple per id).
    Fields mean what they mean in :class:`JournalUpdate`; ``record_ids``, if given, go with
    ``ids`` in order.
    """

    campaign: str
    ids: Sequence[int]
    state: State
    at: float
    record_ids: Sequence[int | None] | None = None
    in_call: bool = False
    answer_lost: bool = False
    detail: str | None = None
    run: bool = False
    """``ids`` ascend and are every pending record of the campaign from the first to the last
    (a batch of fresh ids): the journal may update them by range. Checked, never trusted."""


class JournalRecord(NamedTuple):
    """Everything the journal knows of one record (see the module docstring)."""

    campaign: str
    customer_id: int
    state: State
    record_id: int | None
    attempts: int
    first_attempt_at: float | None
    last_attempt_at: float | None
    first_call_at: float | None
    answer_lost: bool
    detail: str | None


_SCHEMA = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE campaigns (
    id       INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL UNIQUE
);
CREATE TABLE states (
    code INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO states (code, name) VALUES {", ".join(f"({c}, '{n}')" for c, n in enumerate(STATES))};
CREATE TABLE records (
    campaign_key     INTEGER NOT NULL REFERENCES campaigns (id),
    customer_id      INTEGER NOT NULL,
    state            INTEGER NOT NULL DEFAULT {PENDING} REFERENCES states (code),
    record_id        INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at REAL,
    last_attempt_at  REAL,
    first_call_at    REAL,
    answer_lost      INTEGER NOT NULL DEFAULT 0,
    detail           TEXT,
    PRIMARY KEY (campaign_key, customer_id)
) WITHOUT ROWID;
PRAGMA application_id = {APPLICATION_ID};
"""
# A record's record id: its own column (schema 1), else its entry in the answer it points to.
_RECORD_ID_OF = """coalesce({r}.record_id, (SELECT json_extract(m.record_ids,
    '$."' || {r}.customer_id || '"') FROM removals AS m WHERE m.id = {r}.removal))"""
# The removed run whose range may hold an id: the first by its last id (runs do not overlap).
_RUN_OF = """(SELECT u2.id FROM removals AS u2 WHERE u2.campaign_key = {key}
    AND u2.hi >= {id} ORDER BY u2.hi LIMIT 1)"""
# Records as they stand, removed runs applied (schema 3): ``r`` the row, ``u`` the run holding it
# if any, ``m`` the answer with its record id. Used by ``records_view`` and ``record``.
_RESOLVED_FROM = f"""records AS r
LEFT JOIN removals AS u ON r.state = {PENDING}
    AND u.id = {_RUN_OF.format(key="r.campaign_key", id="r.customer_id")}
    AND u.lo <= r.customer_id
LEFT JOIN removals AS m ON m.id = r.removal"""
_RESOLVED = {
    "state": f"iif(u.id IS NULL, r.state, {REMOVED})",
    # in a removed run, by position: the offset from its first id when the run has every id of
    # its range, else the number of its records before this one
    "record_id": f"""coalesce(r.record_id, iif(u.id IS NULL,
           json_extract(m.record_ids, '$."' || r.customer_id || '"'),
           json_extract(u.record_ids, '$[' || iif(u.hi - u.lo + 1 = u.n, r.customer_id - u.lo,
               (SELECT count(*) FROM records AS r2
                WHERE r2.campaign_key = r.campaign_key AND r2.state = {PENDING}
                AND r2.customer_id >= u.lo AND r2.customer_id < r.customer_id)) || ']')))""",
    "attempts": "r.attempts + (u.id IS NOT NULL)",
    "first_attempt_at": "coalesce(r.first_attempt_at, u.at)",
    "last_attempt_at": "iif(u.id IS NULL, r.last_attempt_at, u.at)",
}
# Upgrades from the schema before, in order; a new journal is made by running them all.
_UPGRADES: dict[int, str] = {
    2: f"""
ALTER TABLE records ADD COLUMN removal INTEGER;
CREATE TABLE removals (
    id           INTEGER PRIMARY KEY,
    campaign_key INTEGER NOT NULL REFERENCES campaigns (id),
    record_ids   TEXT NOT NULL
);
DROP VIEW IF EXISTS records_view;
CREATE VIEW records_view AS
SELECT c.campaign, r.customer_id, s.name AS state,
       {_RECORD_ID_OF.format(r="r")} AS record_id, r.attempts,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.first_attempt_at, 'unixepoch') AS first_attempt,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.last_attempt_at, 'unixepoch') AS last_attempt,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.first_call_at, 'unixepoch') AS first_call,
       r.answer_lost, r.detail
FROM records AS r
JOIN campaigns AS c ON c.id = r.campaign_key
JOIN states AS s ON s.code = r.state;
""",
    3: f"""
ALTER TABLE removals ADD COLUMN lo INTEGER;
ALTER TABLE removals ADD COLUMN hi INTEGER;
ALTER TABLE removals ADD COLUMN at REAL;
ALTER TABLE removals ADD COLUMN n INTEGER;
CREATE INDEX removed_runs ON removals (campaign_key, hi) WHERE hi IS NOT NULL;
DROP VIEW IF EXISTS records_view;
CREATE VIEW records_view AS
SELECT c.campaign, r.customer_id, s.name AS state, {_RESOLVED["record_id"]} AS record_id,
       {_RESOLVED["attempts"]} AS attempts,
       strftime('%Y-%m-%dT%H:%M:%fZ', {_RESOLVED["first_attempt_at"]}, 'unixepoch')
           AS first_attempt,
       strftime('%Y-%m-%dT%H:%M:%fZ', {_RESOLVED["last_attempt_at"]}, 'unixepoch')
           AS last_attempt,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.first_call_at, 'unixepoch') AS first_call,
       r.answer_lost, r.detail
FROM {_RESOLVED_FROM}
JOIN campaigns AS c ON c.id = r.campaign_key
JOIN states AS s ON s.code = {_RESOLVED["state"]};
""",
}

# One statement per group of records given the same outcome, its ids passed as one JSON text:
# SQLite walks them in C, with the GIL released, instead of Python binding each row.
# ?1 state, ?2 at, ?3 in_call, ?4 answer_lost, ?5 detail, ?6 campaign_key, ?7 ids (JSON array)
_SET = """
    state = ?1,
    attempts = attempts + 1,
    first_attempt_at = coalesce(first_attempt_at, ?2),
    last_attempt_at = ?2,
    first_call_at = CASE WHEN ?3 THEN coalesce(first_call_at, ?2) ELSE first_call_at END,
    answer_lost = answer_lost OR ?4,
    detail = coalesce(?5, detail)"""
# Which records a group's statement updates: its ids, passed as one JSON array, or a run of them
# by its first and last id (?7, ?8): every pending record in between, walked in key order.
_WHERE_IDS = "campaign_key = ?6 AND customer_id IN (SELECT value FROM json_each(?7))"
_WHERE_RUN = f"campaign_key = ?6 AND customer_id BETWEEN ?7 AND ?8 AND state = {PENDING}"
# The pending records of a range, as one JSON array in key order (?9 unused here): compared
# with the ids as text, an exact test that costs SQLite one scan and Python one dumps.
_CHECK_RUN = (
    f"SELECT json_group_array(customer_id) FROM (SELECT customer_id FROM records"
    f" WHERE {_WHERE_RUN} ORDER BY customer_id)"
)
# With record ids, the group's ``{customer id: record id}`` is kept as one row of ``removals``
# (?9 its id), which each record points to: no row per record is written for them.
_SET_REMOVAL = ",\n    removal = ?9"
# (run, with record ids) -> statement
_UPDATES = {
    (run, with_ids): f"UPDATE records SET {_SET}{_SET_REMOVAL if with_ids else ''}"
    f" WHERE {_WHERE_RUN if run else _WHERE_IDS}"
    for run in (False, True)
    for with_ids in (False, True)
}
# A campaign's (?1) ids as one JSON array (?2), sorted by SQLite on the way in.
_ADD_SORTED = (
    "INSERT OR IGNORE INTO records (campaign_key, customer_id)"
    " SELECT ?1, value FROM json_each(?2) ORDER BY value"
)
_ADD_REMOVAL = "INSERT INTO removals (campaign_key, record_ids) VALUES (?, ?)"
_ADD_RUN = (
    "INSERT INTO removals (campaign_key, record_ids, lo, hi, at, n) VALUES (?, ?, ?, ?, ?, ?)"
)
# Removed runs not yet folded: those whose range holds any of some ids (?1 campaign key, ?2 ids
# as a JSON array), the first whose range ends at or after an id (?1, ?2), and one run's update.
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
# The fields that make updates alike: all but customer_id and record_id.
_GROUP_KEY = operator.itemgetter(0, 2, 3, 5, 6, 7)
_CUSTOMER_ID = operator.itemgetter(1)
_CUSTOMER_ID_COLUMN = operator.itemgetter(0)
_RECORD_ID = operator.itemgetter(4)


class _Runs:
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


class Journal:
    """An open journal file. Synchronous; use from one thread at a time."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock_fd: int | None, writable: bool
    ) -> None:
        self.path = path
        self.writable = writable
        self._con = connection
        self._lock_fd = lock_fd
        self._keys: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._counted: dict[str, tuple[int, Any]] = {}
        self._meta_changes = 0  # changes that were only meta: they leave counts valid
        (self.version,) = connection.execute("PRAGMA user_version").fetchone()
        # schema 1 kept every record id in its row
        self._record_id = _RECORD_ID_OF.format(r="records") if self.version >= 2 else "record_id"
        self._unfolded: set[int] = set()  # campaign keys with removed runs not yet folded
        self._load_campaigns()
        self._load_unfolded()

    # -- opening and closing

    @classmethod
    def create(cls, path: str | os.PathLike[str], settings: Mapping[str, object]) -> Journal:
        """Create a new journal at ``path`` (parents too) holding ``settings``.

        Refuses a file that exists and is not empty, and a journal locked by another process.
        """
        if "password" in settings:
            raise ValueError("the settings written to the journal must not hold the password")
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the folder of journal {target}: {exc}") from exc
        lock_fd = _lock(target)
        try:
            for existing in (target, Path(f"{target}-wal")):
                if existing.exists() and existing.stat().st_size > 0:
                    raise JournalError(
                        f"journal {existing} already exists: resume it, or choose another path"
                    )
            with _closing_on_error(None, f"cannot create journal {target}"):
                con = _connect(target, writable=True)
            with _closing_on_error(con, f"cannot create journal {target}"):
                con.execute("PRAGMA journal_mode = WAL")
                upgrades = "".join(_UPGRADES[v] for v in sorted(_UPGRADES))
                con.executescript(
                    f"BEGIN;{_SCHEMA}{upgrades}PRAGMA user_version = {SCHEMA_VERSION};"
                )
                meta = {
                    "schema_version": SCHEMA_VERSION,
                    "tool": TOOL,
                    "tool_version": __version__,
                    "created_at": time.time(),
                    "settings": dict(settings),
                }
                con.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [(key, _dump(value)) for key, value in meta.items()],
                )
                con.execute("COMMIT")
                return cls(target, con, lock_fd, writable=True)
        except BaseException:
            _unlock(lock_fd)
            raise

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, write: bool = False) -> Journal:
        """Open an existing journal; ``write=True`` takes the lock (for resume).

        Refuses a missing, empty, non-SQLite, foreign, newer or damaged file, saying which.
        """
        target = Path(path)
        _check_header(target)
        lock_fd = _lock(target) if write else None
        try:
            with _closing_on_error(None, f"cannot open journal {target}"):
                con = _connect(target, writable=write)
            with _closing_on_error(con, f"journal {target} is damaged or unreadable"):
                version = _check_identity(con, target)
                if write and version < SCHEMA_VERSION:
                    _upgrade(con, version)
                journal = cls(target, con, lock_fd, writable=write)
                if write:  # a process killed while adding records left rollback mode
                    journal._journal_mode("wal")
                    journal.fold_runs()  # before anything adds or resets records
                return journal
        except BaseException:
            _unlock(lock_fd)
            raise

    def close(self) -> None:
        """Close the file (checkpointing the WAL) and release the lock."""
        try:
            self._con.close()
        finally:
            _unlock(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- ingest

    def add_pending(self, batches: Iterable[tuple[str, Sequence[int]]]) -> int:
        """Add ``(campaign, customer ids)`` batches as pending records; return how many were new.

        Ids already in the journal (or repeated in the input) are ignored. The whole call is one
        transaction, and the records go into ``records`` in key order, several times faster than
        inserting shuffled ids into the primary key one by one. Up to ``_HELD_IDS`` ids are held
        as JSON text and inserted by one sorted statement per campaign; past that, they are
        staged unsorted in a scratch database and then merged, so memory stays bounded. If
        ``batches`` raises, nothing is added.

        While it runs the journal is in rollback-journal mode, not WAL: the new pages are written
        once, not to the WAL and then again by the checkpoint. Readers wait meanwhile.
        """
        self._check_writable()
        self.fold_runs()  # a new id may fall in a removed run's range
        con = self._con
        with self._failing("adding pending records"):
            rollback_mode = self._journal_mode("delete") == "delete"
            # a scratch database for ids past what is held; ATTACH is refused inside a
            # transaction, so it comes first. An empty name: a private file, deleted at once by
            # DETACH (no page freeing).
            con.execute("ATTACH DATABASE '' AS staging")
            staged: set[int] = set()  # campaign keys with staged ids
            try:
                con.execute("PRAGMA staging.journal_mode = OFF")
                con.execute("PRAGMA staging.synchronous = OFF")
                con.execute(
                    "CREATE TABLE staging.ids (campaign_key INTEGER NOT NULL,"
                    " customer_id INTEGER NOT NULL)"
                )
                con.execute("BEGIN IMMEDIATE")
                try:
                    held: dict[int, list[str]] = {}
                    count = 0
                    for campaign, ids in batches:
                        if not ids:
                            continue
                        key = self._campaign_key(campaign)
                        if staged:
                            self._stage(staged, key, _json_ids(ids))
                            continue
                        held.setdefault(key, []).append(_json_ids(ids)[1:-1])
                        count += len(ids)
                        if count > _HELD_IDS:  # too many to hold: stage them all from here on
                            for held_key, texts in held.items():
                                for text in texts:
                                    self._stage(staged, held_key, f"[{text}]")
                            held = {}
                    added = self._merge_staged(staged) if staged else 0
                    while held:
                        key, texts = held.popitem()
                        ids_json = f"[{','.join(texts)}]"
                        del texts  # the pieces go before SQLite parses the whole
                        added += con.execute(_ADD_SORTED, (key, ids_json)).rowcount
                    con.execute("COMMIT")
                except BaseException:
                    con.rollback()
                    self._load_campaigns()  # forget keys handed out in the lost transaction
                    raise
            finally:
                con.execute("DETACH DATABASE staging")
                if rollback_mode:
                    self._journal_mode("wal")
            if not rollback_mode:
                # a large merge leaves a WAL as big as the records: fold it in and cut it back
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return added

    def _stage(self, keys: set[int], key: int, ids_json: str) -> None:
        keys.add(key)
        self._con.execute(
            "INSERT INTO staging.ids SELECT ?, value FROM json_each(?)", (key, ids_json)
        )

    def _merge_staged(self, keys: set[int]) -> int:
        con = self._con
        if len(keys) == 1:
            # one sort key, not two: SQLite's sorter compares single integers fast
            return int(
                con.execute(
                    "INSERT OR IGNORE INTO records (campaign_key, customer_id)"
                    " SELECT ?, customer_id FROM staging.ids ORDER BY customer_id",
                    (next(iter(keys)),),
                ).rowcount
            )
        return int(
            con.execute(
                "INSERT OR IGNORE INTO records (campaign_key, customer_id)"
                " SELECT campaign_key, customer_id FROM staging.ids"
                " ORDER BY campaign_key, customer_id"
            ).rowcount
        )

    # -- reading work

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
        if page and self.version >= 3:
            runs = self._runs(key, page[0], page[-1])
            if runs:  # not during a run: its pages start past its own removed runs
                kept = [i for i in page if runs.holding(i) is None]
                if len(page) == limit and len(kept) < limit:  # fill up from beyond the page
                    kept += self.pending_page(campaign, page[-1], limit - len(kept))
                page = kept
        return page

    def count_pending(self) -> int:
        """How many records are pending, over all campaigns."""
        in_runs = (
            " - (SELECT coalesce(sum(n), 0) FROM removals WHERE hi IS NOT NULL)"
            if self.version >= 3
            else ""
        )
        with self._failing("counting pending records"):
            row = self._con.execute(
                f"SELECT (SELECT count(*) FROM records WHERE state = ?){in_runs}", (PENDING,)
            ).fetchone()
        return int(row[0])

    # -- recording results

    def record_outcomes(self, updates: Sequence[JournalUpdate]) -> dict[str, int]:
        """Apply ``updates`` in one transaction: durable once this returns.

        Returns how many updates gave each state. Raises JournalError, changing nothing, if any
        update names a record not in the journal.
        """
        return self.record_groups(list(_groups(updates)))

    def record_groups(self, groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        """Apply ``groups`` in order, in one transaction: durable once this returns.

        A record may be in several groups (two tries of one batch); within a group ids are
        distinct. Returns how many records each state was given. Raises JournalError, changing
        nothing, if any group names a record not in the journal.
        """
        self._check_writable()
        if not groups:
            return {}
        keyed: list[tuple[Any, ...]] = []
        try:
            for g in groups:
                key, code = self._keys[g.campaign], _CODE[g.state]
                parts = _with_record_ids_apart(g.ids, g.record_ids)
                run = g.run and len(parts) == 1 and len(g.ids) > 1
                for ids, record_ids in parts:
                    keyed.append(
                        (key, code, g.at, g.in_call, g.answer_lost, g.detail, ids, record_ids, run)
                    )
        except KeyError as exc:
            raise JournalError(f"outcome for unknown campaign or state {exc}") from exc
        expected = sum(len(g.ids) for g in groups)
        con = self._con
        with self._failing("recording outcomes"):
            con.execute("BEGIN IMMEDIATE")
            try:
                changed = 0  # records given an outcome
                for key, code, at, in_call, lost, detail, ids, record_ids, run in keyed:
                    plain = code == REMOVED and not in_call and not lost and detail is None
                    if run and record_ids is not None and plain and self._may_defer(key, ids):
                        if self._is_run(key, ids):
                            # the record ids alone, in key order: the run's ids are its range's
                            kept = _json_ids(record_ids)
                            con.execute(_ADD_RUN, (key, kept, ids[0], ids[-1], at, len(ids)))
                            changed += len(ids)
                            self._unfolded.add(key)
                            continue
                    elif key in self._unfolded:
                        self._fold(con.execute(_RUNS_HOLDING, (key, _json_ids(ids))).fetchall())
                    removal = None
                    if record_ids is not None:
                        mapping = _json_object(dict(zip(ids, record_ids, strict=True)))
                        removal = con.execute(_ADD_REMOVAL, (key, mapping)).lastrowid
                    if run:
                        by_range = self._update_run(
                            key, code, at, in_call, lost, detail, ids, removal
                        )
                        if by_range is not None:
                            changed += by_range
                            continue
                    params: tuple[Any, ...] = (code, at, in_call, lost, detail, key, _json_ids(ids))
                    if removal is not None:
                        params += (None, removal)  # ?8 is unused here
                    changed += con.execute(_UPDATES[False, removal is not None], params).rowcount
                if changed != expected:
                    raise JournalError(
                        f"{expected - changed} of {expected} outcomes name records"
                        " that are not in the journal"
                    )
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                self._load_unfolded()
                raise
        by_state: dict[str, int] = {}
        for group in groups:
            by_state[group.state] = by_state.get(group.state, 0) + len(group.ids)
        return by_state

    def _is_run(self, key: int, ids: Sequence[int]) -> bool:
        """Whether the pending records of ``ids[0]..ids[-1]`` are ``ids``, no more, no fewer.

        Batches of fresh ids are runs by construction; the check keeps a mistake there from
        touching, or leaving removed on paper, a record it should not.
        """
        (found,) = self._con.execute(
            _CHECK_RUN, (None, None, None, None, None, key, ids[0], ids[-1])
        ).fetchone()
        return bool(found == _json_ids(ids))

    def _may_defer(self, key: int, ids: Sequence[int]) -> bool:
        """Whether a run of ``ids`` may be kept as a removed run: it must overlap no other.

        Runs it overlaps are folded, and False sends the caller to write the rows.
        """
        if self.version < 3:
            return False
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

    def _update_run(
        self,
        key: int,
        code: int,
        at: float,
        in_call: bool,
        lost: bool,
        detail: str | None,
        ids: Sequence[int],
        removal: int | None,
    ) -> int | None:
        """Update a run of ids by its ends, returning how many rows changed; None, having
        changed nothing, if it is not one. Walking a range of the key costs SQLite less than
        looking up each id.
        """
        if not self._is_run(key, ids):
            return None
        params: tuple[Any, ...] = (code, at, in_call, lost, detail, key, ids[0], ids[-1])
        if removal is not None:
            params += (removal,)
        return int(self._con.execute(_UPDATES[True, removal is not None], params).rowcount)

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
            mapping = _json_object(dict(pairs))
            con.execute(_FOLD, (at, run, key, lo, hi))
            con.execute(
                "UPDATE removals SET record_ids = ?, lo = NULL, hi = NULL WHERE id = ?",
                (mapping, run),
            )

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

    def reset_for_resume(self) -> int:
        """Put ``in_call`` and ``failed`` records back to ``pending``; return how many.

        Attempts are kept. ``first_call_at`` is cleared on every record that will be tried again,
        so a resumed run gives each call a fresh deadline.
        """
        self._check_writable()
        self.fold_runs()
        con = self._con
        with self._failing("resetting records for resume"):
            con.execute("BEGIN IMMEDIATE")
            try:
                moved = con.execute(
                    "UPDATE records SET state = ?, first_call_at = NULL WHERE state IN (?, ?)",
                    (PENDING, IN_CALL, FAILED),
                ).rowcount
                con.execute(
                    "UPDATE records SET first_call_at = NULL"
                    " WHERE state = ? AND first_call_at IS NOT NULL",
                    (PENDING,),
                )
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                raise
        return moved

    # -- reporting

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
        # count comes along, since a report asks for both.
        zeros = ", ".join(["0"] * (len(STATES) - 1))
        totals = (
            f"SELECT {next(iter(self._names))}, (SELECT count(*) FROM records), {zeros}, 0, 0"
            if len(self._names) == 1
            else f"SELECT campaign_key, count(*), {zeros}, 0, 0 FROM records GROUP BY campaign_key"
        )
        others = ", ".join(
            f"count(*) FILTER (WHERE state = {code})" for code in range(1, len(STATES))
        )
        # removed runs in the same statement too
        runs = (
            f" UNION ALL SELECT campaign_key, 0, {zeros}, 0, sum(n)"
            " FROM removals WHERE hi IS NOT NULL GROUP BY campaign_key"
            if self.version >= 3
            else ""
        )
        with self._failing("counting records"):
            rows = self._con.execute(
                f"{totals} UNION ALL SELECT campaign_key, 0, {others},"
                f" count(*) FILTER (WHERE state = {NOT_FOUND} AND answer_lost), 0"
                f" FROM records WHERE state <> {PENDING} GROUP BY campaign_key{runs}"
            ).fetchall()
        lost = 0
        for key, total, *numbers, lost_here, in_runs in rows:
            counted = result[self._names[key]]
            counted["pending"] += total - sum(numbers) - in_runs
            for state, number in zip(STATES[1:], numbers, strict=True):
                counted[state] += number
            counted["removed"] += in_runs
            lost += lost_here
        self._cache("counts", {name: dict(numbers) for name, numbers in result.items()})
        self._cache("lost", lost)
        return result

    def count_not_found_after_lost_answer(self) -> int:
        """Records not found after an attempt whose answer was lost: probably removed by us."""
        cached = self._cached("lost")
        if cached is not None:
            return int(cached)
        with self._failing("counting records"):
            (count,) = self._con.execute(
                "SELECT count(*) FROM records WHERE state = ? AND answer_lost",
                (NOT_FOUND,),
            ).fetchone()
        self._cache("lost", int(count))
        return int(count)

    def id_widths(self, states: Iterable[State], campaign: str) -> dict[int, int]:
        """How many records of ``campaign`` in ``states`` have ids of each length in digits.

        One count per length over a range of the primary key: no id is read into Python. Ids
        that are not positive integers of up to 18 digits (a journal edited by hand) are
        counted by their length as text.
        """
        codes = sorted({_CODE[state] for state in states})
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
                if sign and self.version >= 3:
                    (in_runs,) = self._con.execute(_COUNT_IN_RUNS, (key, *ends)).fetchone()
                    count += sign * in_runs
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
        codes = {_CODE[state] for state in states}
        if self.version >= 3 and codes & {PENDING, REMOVED}:
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
        removal = "removal" if self.version >= 2 else "NULL"
        columns = (
            f"customer_id, state, record_id, {removal}, attempts, first_attempt_at,"
            " last_attempt_at, first_call_at, answer_lost, detail"
        )
        codes = {_CODE[state] for state in states}
        # Record ids kept per answer are looked up here, one answer read per run of its
        # records (SQL's json_extract would search the answer's text once per record). A
        # removed run keeps them by position: its records come here in key order.
        answer_id, answer = None, {}
        run_id, run_ids, position = None, [], 0
        for name, runs, rows in self._chunks(columns, codes, campaign):
            for cid, state, rid, pointer, attempts, first, last, call, lost, detail in rows:
                if runs is not None and state == PENDING:
                    run = runs.holding(cid)
                    if run is not None:  # the update the removed run stands for
                        if run[0] != run_id:
                            run_id, run_ids, position = run[0], self._run_record_ids(run[0]), 0
                        if rid is None and position < len(run_ids):
                            rid = run_ids[position]
                        position += 1
                        pointer, at = None, run[1]
                        state, attempts, last = REMOVED, attempts + 1, at
                        first = at if first is None else first
                    if state not in codes:
                        continue
                if rid is None and pointer is not None:
                    if pointer != answer_id:
                        answer_id, answer = pointer, self._removal(pointer)
                    rid = answer.get(str(cid))
                yield JournalRecord(
                    name, cid, STATES[state], rid, attempts, first, last, call, bool(lost), detail
                )

    def _run_record_ids(self, run: int) -> list[int | None]:
        """The record ids kept for a removed run, in the key order of its records."""
        with self._failing("reading record ids"):
            row = self._con.execute("SELECT record_ids FROM removals WHERE id = ?", (run,))
            found = row.fetchone()
        kept: list[int | None] = orjson.loads(found[0]) if found else []
        return kept

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
    ) -> Iterator[tuple[str, _Runs | None, list[Any]]]:
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
            if self.version >= 3 and codes & {PENDING, REMOVED}:
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

    def _runs(self, key: int, first: int | None = None, last: int | None = None) -> _Runs | None:
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
        return _Runs(rows) if rows else None

    def record(self, campaign: str, customer_id: int) -> JournalRecord | None:
        """The journal's row for one record, or None if it has none."""
        key = self._key_of(campaign)
        if key is None:
            return None
        if self.version >= 3:
            columns = ", ".join(_RESOLVED.values())
            sql = (
                f"SELECT {columns}, r.first_call_at, r.answer_lost, r.detail"
                f" FROM {_RESOLVED_FROM} WHERE r.campaign_key = ? AND r.customer_id = ?"
            )
        else:
            sql = (
                f"SELECT state, {self._record_id}, attempts, first_attempt_at, last_attempt_at,"
                " first_call_at, answer_lost, detail FROM records"
                " WHERE campaign_key = ? AND customer_id = ?"
            )
        with self._failing("reading a record"):
            row = self._con.execute(sql, (key, customer_id)).fetchone()
        if row is None:
            return None
        state, record_id, attempts, first_at, last_at, call_at, lost, detail = row
        return JournalRecord(
            campaign,
            customer_id,
            STATES[state],
            record_id,
            attempts,
            first_at,
            last_at,
            call_at,
            bool(lost),
            detail,
        )

    def set_meta(self, key: str, value: object) -> None:
        """Store ``value`` (anything JSON can hold) under ``key``, replacing what was there."""
        self._check_writable()
        before = self._con.total_changes
        with self._failing("writing meta"):
            self._con.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, _dump(value))
            )
        self._meta_changes += self._con.total_changes - before

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        with self._failing("reading meta"):
            row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # -- internals

    def _campaign_key(self, campaign: str) -> int:
        key = self._keys.get(campaign)
        if key is None:
            cursor = self._con.execute("INSERT INTO campaigns (campaign) VALUES (?)", (campaign,))
            key = cursor.lastrowid
            assert key is not None
            self._keys[campaign] = key
            self._names[key] = campaign
        return key

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

    def _journal_mode(self, mode: str) -> str:
        """Switch the journal mode; returns the mode in force (unchanged if SQLite refused)."""
        try:
            (now,) = self._con.execute(f"PRAGMA journal_mode = {mode}").fetchone()
        except sqlite3.OperationalError:  # another connection holds the file open
            (now,) = self._con.execute("PRAGMA journal_mode").fetchone()
        return str(now).lower()

    def _key_of(self, campaign: str) -> int | None:
        if campaign not in self._keys:
            self._refresh_campaigns()
        return self._keys.get(campaign)

    def _refresh_campaigns(self) -> None:
        if not self.writable:  # a run may be adding campaigns as we read
            with self._failing("reading campaigns"):
                self._load_campaigns()

    def _load_unfolded(self) -> None:
        if self.version >= 3:
            rows = self._con.execute(
                "SELECT DISTINCT campaign_key FROM removals WHERE hi IS NOT NULL"
            ).fetchall()
            self._unfolded = {key for (key,) in rows}

    def _load_campaigns(self) -> None:
        rows = self._con.execute("SELECT id, campaign FROM campaigns").fetchall()
        self._keys = {name: key for key, name in rows}
        self._names = {key: name for key, name in rows}

    def _check_writable(self) -> None:
        if not self.writable:
            raise JournalError(f"journal {self.path} is open read-only")

    @contextlib.contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {action} failed: {exc}") from exc


@contextlib.contextmanager
def _closing_on_error(con: sqlite3.Connection | None, message: str) -> Iterator[None]:
    """Close ``con`` if the block fails; report SQLite's errors as JournalError(message)."""
    try:
        yield
    except BaseException as exc:
        if con is not None:
            con.close()
        if isinstance(exc, sqlite3.Error):
            raise JournalError(f"{message}: {exc}") from exc
        raise


def _json_ids(ids: Sequence[int]) -> str:
    as_json = getattr(ids, "as_json", None)  # ids kept as text by the input reader
    if as_json is not None:
        text: str = as_json()
        return text
    return orjson.dumps(ids if isinstance(ids, list | tuple) else list(ids)).decode()


def _json_object(mapping: dict[int, int | None]) -> str:
    return orjson.dumps(mapping, option=orjson.OPT_NON_STR_KEYS).decode()


def _with_record_ids_apart(
    ids: Sequence[int], record_ids: Sequence[int | None] | None
) -> list[tuple[Sequence[int], Sequence[int] | None]]:
    """``ids`` with a record id, and those without (whose record id is kept as it was)."""
    if record_ids is None or _all_none(record_ids):
        return [(ids, None)]
    if None not in record_ids:
        return [(ids, cast(Sequence[int], record_ids))]
    known = [r is not None for r in record_ids]
    with_ids = list(itertools.compress(ids, known))
    without = [i for i, k in zip(ids, known, strict=True) if not k]
    return [(with_ids, [r for r in record_ids if r is not None]), (without, None)]


def _all_none(values: Sequence[object]) -> bool:
    return values.count(None) == len(values)


def _groups(updates: Sequence[JournalUpdate]) -> Iterator[OutcomeGroup]:
    """Runs of consecutive, alike updates of distinct records, in order.

    A record twice in one run (two tries of one batch in one commit) splits it, so that each of
    its updates counts, in order.
    """
    for (campaign, state, at, in_call, lost, detail), run in itertools.groupby(updates, _GROUP_KEY):
        rows = list(run)
        ids = list(map(_CUSTOMER_ID, rows))
        record_ids = list(map(_RECORD_ID, rows))
        pieces = [(0, len(ids))]
        if len(set(ids)) != len(ids):
            pieces = []
            seen: set[int] = set()
            start = 0
            for index, customer_id in enumerate(ids):
                if customer_id in seen:
                    pieces.append((start, index))
                    seen.clear()
                    start = index
                seen.add(customer_id)
            pieces.append((start, len(ids)))
        for first, last in pieces:
            yield OutcomeGroup(
                campaign, ids[first:last], state, at, record_ids[first:last], in_call, lost, detail
            )


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _connect(path: Path, *, writable: bool) -> sqlite3.Connection:
    if writable:
        con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    else:
        uri = path.resolve().as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    if writable:
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
        con.execute(f"PRAGMA threads = {_SORT_THREADS}")
    return con


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise JournalError(f"no journal at {path}") from None
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc}") from exc
    if not head:
        raise JournalError(f"{path} is empty, not a bulkremove journal")
    if head != _SQLITE_MAGIC:
        raise JournalError(f"{path} is not a bulkremove journal (not an SQLite database)")


def _upgrade(con: sqlite3.Connection, version: int) -> None:
    """Bring a journal of an older schema (one being resumed) up to this one, atomically."""
    steps = "".join(_UPGRADES[v] for v in sorted(_UPGRADES) if v > version)
    con.executescript(f"BEGIN IMMEDIATE;{steps}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")


def _check_identity(con: sqlite3.Connection, path: Path) -> int:
    """The journal's schema version; refuses a file that is not a journal this version reads."""
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise JournalError(
            f"{path} is an SQLite database of another program (application_id {app_id:#x}),"
            " not a bulkremove journal"
        )
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"journal {path} was written by a newer bulkremove (schema {version}; this version"
            f" reads up to {SCHEMA_VERSION}): upgrade bulkremove"
        )
    if version < 1:
        raise JournalError(f"journal {path} is incomplete (schema version {version})")
    return int(version)


def writer_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid of the process writing the journal at ``path`` now, or None when none is.

    Probes the lock with a shared, non-blocking ``flock`` released at once; a missing lock file
    means no writer.
    """
    lock_path = _lock_path(Path(path))
    try:
        fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"cannot read the lock file {lock_path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(holder) if holder.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _lock_path(path: Path) -> Path:
    return Path(f"{path}{_LOCK_SUFFIX}")


def _lock(path: Path) -> int:
    lock_path = _lock_path(path)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise JournalError(f"cannot create the lock file {lock_path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise JournalError(
            f"journal {path} is in use by another bulkremove process (pid {holder})"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise JournalError(f"cannot lock {lock_path}: {exc}") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock
