"""The connection every part of an open journal shares, and what goes with it.

:class:`Connection` holds the SQLite connection, the path, whether the journal is writable and
the lock it holds, the campaigns' keys, and the writing of meta. It maps SQLite's errors to
:class:`~bulkremove.errors.JournalError`. The parts of :class:`~bulkremove.journal.Journal`
(removed runs, intake, outcomes, reads) build on it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import orjson

from bulkremove.errors import JournalError


class Connection:
    """An open journal's connection, path, lock and campaign keys. Use from one thread at a time."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock_fd: int | None, writable: bool
    ) -> None:
        self.path = path
        self.writable = writable
        self._con = connection
        self._lock_fd = lock_fd
        self._keys: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._meta_changes = 0  # changes that were only meta: they leave counts valid
        self._load_campaigns()

    def set_meta(self, key: str, value: object) -> None:
        """Store ``value`` (anything JSON can hold) under ``key``, replacing what was there."""
        self.set_metas({key: value})

    def set_metas(self, values: Mapping[str, object]) -> None:
        """Store each of ``values`` under its key, in one transaction."""
        self._check_writable()
        before = self._con.total_changes
        rows = [(key, dump(value)) for key, value in values.items()]
        insert = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"
        with self._failing("writing meta"):
            alone = not self._con.in_transaction  # else part of the caller's transaction
            if alone:
                self._con.execute("BEGIN")
            try:
                self._con.executemany(insert, rows)
                if alone:
                    self._con.execute("COMMIT")
            except BaseException:
                if alone:
                    with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back
                        self._con.execute("ROLLBACK")
                raise
        self._meta_changes += self._con.total_changes - before

    def set_meta_after_failure(self, values: Mapping[str, object]) -> None:
        """Write ``values`` after a write failed (disk full): end the transaction the failure
        left open, and checkpoint the WAL into the file, which frees its space, before trying."""
        self._check_writable()
        with contextlib.suppress(sqlite3.Error):
            if self._con.in_transaction:
                self._con.execute("ROLLBACK")
        with contextlib.suppress(sqlite3.Error):
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.set_metas(values)

    def _campaign_key(self, campaign: str) -> int:
        """The campaign's key, added (in the caller's transaction) if it has none yet."""
        key = self._keys.get(campaign)
        if key is None:
            cursor = self._con.execute("INSERT INTO campaigns (campaign) VALUES (?)", (campaign,))
            key = cursor.lastrowid
            assert key is not None
            self._keys[campaign] = key
            self._names[key] = campaign
        return key

    def _key_of(self, campaign: str) -> int | None:
        if campaign not in self._keys:
            self._refresh_campaigns()
        return self._keys.get(campaign)

    def _refresh_campaigns(self) -> None:
        if not self.writable:  # a run may be adding campaigns as we read
            with self._failing("reading campaigns"):
                self._load_campaigns()

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


def dump(value: object) -> str:
    """``value`` as the JSON text of a meta row (keys sorted, anything else as its ``str``)."""
    option = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(value, default=str, option=option).decode()


def json_ids(ids: Sequence[int]) -> str:
    """``ids`` as one JSON array, for SQLite's ``json_each`` to walk in C."""
    as_json = getattr(ids, "as_json", None)  # ids kept as text by the input reader
    if as_json is not None:
        text: str = as_json()
        return text
    return orjson.dumps(ids if isinstance(ids, list | tuple) else list(ids)).decode()


def json_object(mapping: dict[int, int | None]) -> str:
    """``{customer id: record id}`` as one JSON object, as an answer's ``removals`` row keeps it."""
    return orjson.dumps(mapping, option=orjson.OPT_NON_STR_KEYS).decode()
