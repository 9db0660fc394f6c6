"""The open journal: :class:`Journal`, made of its parts, and its creation and opening.

The parts each own one concern of the one connection: removed runs
(:mod:`~bulkremove.journal.spans`), the intake of ingested ids (:mod:`~bulkremove.journal.intake`),
outcomes (:mod:`~bulkremove.journal.outcomes`), reads (:mod:`~bulkremove.journal.reads`),
listings (:mod:`~bulkremove.journal.listing`), verifications
(:mod:`~bulkremove.journal.verified`), the series (:mod:`~bulkremove.journal.series`) and restores
(:mod:`~bulkremove.journal.restores`).

Durability: WAL with ``synchronous=NORMAL``. A committed transaction is in the WAL file when the
commit returns, so it survives the process being killed (even SIGKILL); only an OS crash or power
loss can lose the last commits, never corrupt the file. ``add_pending`` alone runs in
rollback-journal mode (as atomic, and the new pages are written once) and returns to WAL. A clean
close of the writer checkpoints and leaves rollback mode, so the file stands alone (see close).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from bulkremove.errors import JournalError
from bulkremove.files import sync_folder
from bulkremove.journal.intake import Intake
from bulkremove.journal.listing import Listings
from bulkremove.journal.lock import lock, unlock
from bulkremove.journal.outcomes import Outcomes
from bulkremove.journal.reads import Reads
from bulkremove.journal.restores import Restores
from bulkremove.journal.schema import (
    check_header,
    check_identity,
    connect,
    create_schema,
    journal_mode,
)
from bulkremove.journal.series import SeriesRows
from bulkremove.journal.verified import Verifications


class Journal(Intake, Outcomes, Reads, Listings, Verifications, SeriesRows, Restores):
    """An open journal file. Synchronous; use from one thread at a time."""

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], settings: Mapping[str, object], *, durable: bool = False
    ) -> Journal:
        """Create a new journal at ``path`` (parents too) holding ``settings``.

        Refuses a file that exists and is not empty, and a journal locked by another process.
        ``durable`` commits with ``synchronous = FULL`` (``durability = full``).
        """
        if "password" in settings:
            raise ValueError("the settings written to the journal must not hold the password")
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the folder of journal {target}: {exc}") from exc
        lock_fd = lock(target)
        try:
            for existing in (target, Path(f"{target}-wal")):
                if existing.exists() and existing.stat().st_size > 0:
                    raise JournalError(
                        f"journal {existing} already exists: resume it, or choose another path"
                    )
            with _closing_on_error(None, f"cannot create journal {target}"):
                con = connect(target, writable=True, durable=durable)
            with _closing_on_error(con, f"cannot create journal {target}"):
                create_schema(con, settings)
                if durable:  # the new file's name, and its -wal's, survive a power loss too
                    sync_folder(target.parent)
                return cls(target, con, lock_fd, writable=True)
        except BaseException:
            unlock(lock_fd, target)
            raise

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, write: bool = False, durable: bool = False
    ) -> Journal:
        """Open an existing journal; ``write=True`` takes the lock (for resume).

        Refuses a missing, empty, non-SQLite, foreign, other-schema or damaged file, saying which.
        """
        target = Path(path)
        check_header(target)
        lock_fd = lock(target) if write else None
        try:
            with _closing_on_error(None, f"cannot open journal {target}"):
                con = connect(target, writable=write, durable=durable)
            with _closing_on_error(con, f"journal {target} is damaged or unreadable"):
                check_identity(con, target)
                journal = cls(target, con, lock_fd, writable=write)
                if write:  # a process killed while adding records left rollback mode
                    journal_mode(con, "wal")
                    journal.fold_runs()  # before anything adds or resets records
                return journal
        except BaseException:
            unlock(lock_fd, target)
            raise

    def close(self) -> None:
        """Close the file and release the lock.

        The writer leaves the journal as one file: it checkpoints the WAL and returns to rollback
        mode, so later read-only opens make no ``-wal`` or ``-shm`` files; the lock file goes too.
        A reader holding the file open keeps WAL mode, which the next read-only open uses.
        """
        try:
            if self.writable:
                with contextlib.suppress(sqlite3.Error):  # best effort: a full disk, a reader
                    self._con.execute("PRAGMA busy_timeout = 0")
                    journal_mode(self._con, "delete")
            self._con.close()
        finally:
            unlock(self._lock_fd, self.path if self.writable else None)
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
