"""The journal's one schema, and the opening of its file: DDL, identity, connection, mode.

Readable from the ``sqlite3`` shell::

    meta(key TEXT PRIMARY KEY, value TEXT)          -- every value is JSON
    campaigns(id INTEGER PRIMARY KEY, campaign TEXT UNIQUE)
    states(code INTEGER PRIMARY KEY, name TEXT UNIQUE)  -- 0 pending, 1 removed, 2 not_found,
                                                        -- 3 in_call, 4 failed
    records(campaign_key, customer_id, state, attempts, first_attempt_at, last_attempt_at,
            first_call_at, answer_lost, detail, removal)  WITHOUT ROWID,
            PRIMARY KEY (campaign_key, customer_id)
    removals(id INTEGER PRIMARY KEY, campaign_key, record_ids TEXT,  -- one row per answer
             lo, hi, at, n)                         -- a removed run not yet folded
    removed_records(campaign_key, key, record_id)   -- each record a phone number removed
            WITHOUT ROWID, PRIMARY KEY (campaign_key, key, record_id)
    records_view                                    -- records as they stand: names, ISO times,
                                                    -- record ids, removed runs applied
    listing_pages(listing, pass, "offset", count, at, records)  -- pages of a selection's
                                                    -- listing, until its passes agree
    listed(campaign_key, record_id, key, fields)    -- records as listed: a selection's, or the
                                                    -- snapshot of a run from input files
    disagreements(campaign, key, state, api, at)    -- the last verification's findings: the key
                                                    -- as people read it, what the API said
    series(run, at, width, removed, not_found, failed, requests, throttled, server_errors,
           timeouts, connection_errors, retries, retry_wait_s, paused_s, rate, in_call)
                                                    -- each run's figures per time bucket
    restores(campaign_key, record_id, key, state,   -- ``bulkremove restore``: each removed record
             new_record_id, attempts, detail, at)   -- added back (by its old record id), see
                                                    -- :mod:`bulkremove.journal.restores`

A record's key is the ``customer_id`` column: a customer id, or for a run with ``target =
"phone_number"`` the number's key, its digits behind a sentinel ``1`` (see :mod:`bulkremove.ids`).
Such a journal's ``records_view`` shows the number as text in a ``phone_number`` column and the
record ids it removed as a JSON array in ``record_ids``: a number may match several records,
each kept in ``removed_records``.

``records`` stores the campaign as a small key into ``campaigns`` and the state as a code, so a row
of a pending record takes about 20 bytes (10,000,000 rows: about 200 MB). The primary key is how
duplicates are dropped and gives each campaign's ids in ascending order for keyset pagination.
Times are unix seconds (REAL). ``attempts`` counts requests that carried the record;
``first_call_at`` is the first CALL_IN_PROGRESS answer (the engine's call deadline starts there);
``answer_lost`` says an earlier attempt's answer never arrived, so a later NOT_EXIST may mean that
attempt removed the record; ``detail`` is the last unexpected answer or reason, verbatim.

Record ids: an answer's ``{customer id: record id}`` is one row of ``removals`` (as JSON), and
``records.removal`` points each record to it. A ``removals`` row with a range (``lo``..``hi``)
is a removed run, see :mod:`bulkremove.journal.spans`.

Verification (``bulkremove verify``) leaves the records alone: it writes its figures into the meta
key ``verified`` and the records the API contradicts into ``disagreements`` (the journal's state,
and what the API said, for people), replacing those of the verification before.

Meta keys written when a journal is made: ``schema_version``, ``tool``, ``tool_version``,
``created_at`` and ``settings`` (the run's effective settings, never the password). Callers add
others (input statistics, ``finished_at``, ``exit_code``) with ``Journal.set_meta``; a run that is
sending keeps ``sent_up_to:<campaign>`` (see ``Journal.mark_sent``).

A selection (``--where``) lists its records before anything is sent: each page read is one row
of ``listing_pages`` (``listing`` is ``selection``, or ``campaign`` for the whole campaign a
phone selection checks against; ``records`` the page's records as JSON), committed as it comes,
so a killed listing resumes at its last page. Once the passes agree, the selected records go to
``listed`` (one row each, ``fields`` the record as listed, JSON: the snapshot), their keys to
``records`` as pending, and the pages are dropped. A run from input files may take the same
snapshot before its first DELETE (see :mod:`bulkremove.snapshot`; meta ``snapshot`` says whether
and how).

Each run keeps its figures over time in ``series`` (see :mod:`bulkremove.journal.series`):
counts within each bucket (outcomes, requests, failed requests by kind, retries and the seconds
they waited, seconds paused by Retry-After) and, at its end, the rate in force and the ids
waiting on a call. At most 1,000 rows a run, whatever its length; the HTML report draws them.

``PRAGMA application_id`` marks the file as a bulkremove journal and ``PRAGMA user_version``
holds the schema version. There is one schema: a file of another program, or of another schema
version (older or newer), is refused, saying which.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

from bulkremove._version import __version__
from bulkremove.errors import JournalError
from bulkremove.journal.connection import dump
from bulkremove.journal.records import PENDING, STATES
from bulkremove.journal.spans import RESOLVED, RESOLVED_FROM
from bulkremove.kinds import kind_of

APPLICATION_ID = int.from_bytes(b"BRMJ", "big")
SCHEMA_VERSION = 6
TOOL = "bulkremove"

_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_LIMIT = 64 << 20  # bytes the WAL file is cut back to after a checkpoint
_SORT_THREADS = 2  # helper threads for SQLite's sorter when merging a large ingest

_ISO = "strftime('%Y-%m-%dT%H:%M:%fZ', {}, 'unixepoch')"
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
CREATE TABLE removals (
    id           INTEGER PRIMARY KEY,
    campaign_key INTEGER NOT NULL REFERENCES campaigns (id),
    record_ids   TEXT NOT NULL,
    lo           INTEGER,
    hi           INTEGER,
    at           REAL,
    n            INTEGER
);
CREATE INDEX removed_runs ON removals (campaign_key, hi) WHERE hi IS NOT NULL;
CREATE TABLE records (
    campaign_key     INTEGER NOT NULL REFERENCES campaigns (id),
    customer_id      INTEGER NOT NULL,
    state            INTEGER NOT NULL DEFAULT {PENDING} REFERENCES states (code),
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at REAL,
    last_attempt_at  REAL,
    first_call_at    REAL,
    answer_lost      INTEGER NOT NULL DEFAULT 0,
    detail           TEXT,
    removal          INTEGER REFERENCES removals (id),
    PRIMARY KEY (campaign_key, customer_id)
) WITHOUT ROWID;
CREATE TABLE disagreements (
    campaign TEXT NOT NULL,
    key      NOT NULL,
    state    TEXT NOT NULL,
    api      TEXT NOT NULL,
    at       REAL NOT NULL,
    PRIMARY KEY (campaign, key)
) WITHOUT ROWID;
CREATE TABLE listing_pages (
    listing  TEXT NOT NULL,
    pass     INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    at       REAL NOT NULL,
    records  TEXT NOT NULL,
    PRIMARY KEY (listing, pass, "offset")
) WITHOUT ROWID;
CREATE TABLE listed (
    campaign_key INTEGER NOT NULL REFERENCES campaigns (id),
    record_id    INTEGER NOT NULL,
    key          NOT NULL,
    fields       TEXT NOT NULL,
    PRIMARY KEY (campaign_key, record_id)
) WITHOUT ROWID;
CREATE TABLE series (
    run               INTEGER NOT NULL,
    at                REAL NOT NULL,
    width             REAL NOT NULL,
    removed           INTEGER NOT NULL DEFAULT 0,
    not_found         INTEGER NOT NULL DEFAULT 0,
    failed            INTEGER NOT NULL DEFAULT 0,
    requests          INTEGER NOT NULL DEFAULT 0,
    throttled         INTEGER NOT NULL DEFAULT 0,
    server_errors     INTEGER NOT NULL DEFAULT 0,
    timeouts          INTEGER NOT NULL DEFAULT 0,
    connection_errors INTEGER NOT NULL DEFAULT 0,
    retries           INTEGER NOT NULL DEFAULT 0,
    retry_wait_s      REAL NOT NULL DEFAULT 0,
    paused_s          REAL NOT NULL DEFAULT 0,
    rate              REAL,
    in_call           INTEGER,
    PRIMARY KEY (run, at)
) WITHOUT ROWID;
CREATE TABLE restores (
    campaign_key  INTEGER NOT NULL REFERENCES campaigns (id),
    record_id     INTEGER NOT NULL,
    key           NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending',
    new_record_id INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    detail        TEXT,
    at            REAL,
    PRIMARY KEY (campaign_key, record_id)
) WITHOUT ROWID;
CREATE TABLE removed_records (
    campaign_key INTEGER NOT NULL REFERENCES campaigns (id),
    key          INTEGER NOT NULL,
    record_id    INTEGER NOT NULL,
    PRIMARY KEY (campaign_key, key, record_id)
) WITHOUT ROWID;
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""
_VIEW = f"""
CREATE VIEW records_view AS
SELECT c.campaign, {{key}}, s.name AS state, {{record_id}},
       {RESOLVED["attempts"]} AS attempts,
       {_ISO.format(RESOLVED["first_attempt_at"])} AS first_attempt,
       {_ISO.format(RESOLVED["last_attempt_at"])} AS last_attempt,
       {_ISO.format("r.first_call_at")} AS first_call,
       r.answer_lost, r.detail
FROM {RESOLVED_FROM}
JOIN campaigns AS c ON c.id = r.campaign_key
JOIN states AS s ON s.code = {RESOLVED["state"]};
"""
_VIEW_KEYS = {
    False: {"key": "r.customer_id", "record_id": f"{RESOLVED['record_id']} AS record_id"},
    True: {
        "key": "substr(r.customer_id, 2) AS phone_number",
        "record_id": "(SELECT json_group_array(record_id) FROM removed_records AS x"
        " WHERE x.campaign_key = r.campaign_key AND x.key = r.customer_id) AS record_ids",
    },
}
"""The view's key and record id columns, by whether a key may match several records."""


def create_schema(con: sqlite3.Connection, settings: Mapping[str, object]) -> None:
    """Make the tables of a new journal and its meta, in one transaction.

    The view shows keys as the kind of the settings' ``target`` has them (phone numbers as
    text, with all their record ids).
    """
    con.execute("PRAGMA journal_mode = WAL")
    view = _VIEW.format_map(_VIEW_KEYS[kind_of(settings).several_records])
    con.executescript(f"BEGIN;{_SCHEMA}{view}")
    meta = {
        "schema_version": SCHEMA_VERSION,
        "tool": TOOL,
        "tool_version": __version__,
        "created_at": time.time(),
        "settings": dict(settings),
    }
    con.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [(key, dump(value)) for key, value in meta.items()],
    )
    con.execute("COMMIT")


def connect(path: Path, *, writable: bool, durable: bool = False) -> sqlite3.Connection:
    """A connection to the journal at ``path``: read-only unless ``writable``.

    In WAL mode ``synchronous = NORMAL`` keeps every commit through a crash or SIGKILL but may
    lose the last ones to a power loss; ``durable`` (FULL) syncs the WAL at each commit.
    """
    if writable:
        con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    else:
        uri = path.resolve().as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    if writable:
        con.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        con.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
        con.execute(f"PRAGMA threads = {_SORT_THREADS}")
    return con


def journal_mode(con: sqlite3.Connection, mode: str) -> str:
    """Switch the journal mode; returns the mode in force (unchanged if SQLite refused)."""
    try:
        (now,) = con.execute(f"PRAGMA journal_mode = {mode}").fetchone()
    except sqlite3.OperationalError:  # another connection holds the file open
        (now,) = con.execute("PRAGMA journal_mode").fetchone()
    return str(now).lower()


def check_header(path: Path) -> None:
    """Refuse a missing or empty file, or one that is not an SQLite database."""
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


def check_identity(con: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that is not a journal of this schema, saying what it is."""
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
            f" reads schema {SCHEMA_VERSION}): upgrade bulkremove"
        )
    if version < 1:
        raise JournalError(f"journal {path} is incomplete (schema version {version})")
    if version < SCHEMA_VERSION:
        raise JournalError(
            f"journal {path} was written by an older, unreleased bulkremove (schema {version};"
            f" this version reads schema {SCHEMA_VERSION} only): start a new journal"
        )
