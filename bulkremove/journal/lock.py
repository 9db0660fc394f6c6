"""The writer lock: one process writes a journal at a time.

Creating a journal, or opening one to write, holds an exclusive ``flock`` on ``<journal>.lock``,
which holds the holder's pid. A clean close removes the lock file while still holding it; a
process that locked the file just removed sees that the path no longer names its file, and tries
again, so two writers never hold two different files. A killed writer leaves the file, which the
next writer locks. Read-only opens (report, export, runs) take no lock; WAL lets them read while a
run writes.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bulkremove.errors import JournalError

_SUFFIX = ".lock"


def lock_path(path: Path) -> Path:
    """The lock file of the journal at ``path``."""
    return Path(f"{path}{_SUFFIX}")


def lock(path: Path) -> int:
    """Take the writer lock of the journal at ``path``; returns the descriptor that holds it.

    Refuses, naming the holder's pid, when another process holds it.
    """
    held = lock_path(path)
    while True:
        fd = _lock_once(path, held)
        if _still_named(fd, held):
            break
        os.close(fd)  # its holder removed it as we locked it: lock the file now there
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _lock_once(path: Path, held: Path) -> int:
    try:
        fd = os.open(held, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise JournalError(f"cannot create the lock file {held}: {exc}") from exc
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
        raise JournalError(f"cannot lock {held}: {exc}") from exc
    return fd


def _still_named(fd: int, held: Path) -> bool:
    """Whether ``held`` is still the file ``fd`` locked (not removed or replaced since)."""
    try:
        named = held.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def unlock(fd: int | None, path: Path | None = None) -> None:
    """Release a lock taken by :func:`lock` (None: there is none).

    With the journal's ``path``, a clean close: the lock file is removed first, while held.
    """
    if fd is None:
        return
    if path is not None:
        lock_path(path).unlink(missing_ok=True)
    os.close(fd)  # closing the descriptor releases the flock


def writer_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid of the process writing the journal at ``path`` now, or None when none is.

    Probes the lock with a shared, non-blocking ``flock`` released at once; a missing lock file
    means no writer.
    """
    held = lock_path(Path(path))
    try:
        fd = os.open(held, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"cannot read the lock file {held}: {exc}") from exc
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
