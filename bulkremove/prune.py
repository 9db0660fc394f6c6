"""``bulkremove runs --prune``: removing the old journals of runs that are done with.

Age is the time since the journal file was last written (its mtime: when its run last ended),
not since the run started, so a run resumed last week is not old because it began last month.
Without ``--force`` only a ``finished`` run with nothing left to do (no pending, in-call or
failed records), or a dry run that holds no records, is removed; ``--force`` removes any old
journal but one a process is writing now, and never one that cannot be read as a journal.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from bulkremove.errors import JournalError, UsageError
from bulkremove.journal.lock import lock, unlock
from bulkremove.outputs import skipped_lines_path
from bulkremove.runs import RunInfo, list_runs

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_LEFT_TO_DO = ("pending", "in_call", "failed")


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` as seconds."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--older-than {text!r}: give a number and a unit, e.g. 30d, 12h or 2w")
    return float(match[1]) * _UNITS[match[2]]


@dataclass(frozen=True, slots=True)
class Pruned:
    """One old journal and what prune did with it: ``kept`` says why it stayed, else removed."""

    journal: str
    state: str
    days: float
    kept: str | None = None


def prune(folder: str, older_than: float, *, force: bool, dry_run: bool) -> list[Pruned]:
    """Remove the journals in ``folder`` older than ``older_than`` seconds that may go."""
    now = time.time()
    done = []
    for run in list_runs(folder):
        try:
            age = now - Path(run.journal).stat().st_mtime
        except FileNotFoundError:
            continue
        if age < older_than:
            continue
        days = age / 86400
        kept = _why_kept(run, force)
        if kept is None and not dry_run:
            kept = _remove(Path(run.journal))
        done.append(Pruned(run.journal, run.state, days, kept))
    return done


def _why_kept(run: RunInfo, force: bool) -> str | None:
    if run.state == "running":
        return "running"
    if run.state == "unreadable":
        return f"not readable as a journal ({run.error})"
    if force:
        return None
    left = sum(run.counts[state] for state in _LEFT_TO_DO)
    if run.state in ("finished", "dry_run") and left == 0:
        return None
    what = f"{left} records left to do" if left else "unfinished"
    return f"{run.state.replace('_', ' ')}, {what} (--force removes it)"


def _remove(journal: Path) -> str | None:
    """Remove ``journal`` and the files that are its own, holding its lock (a run starting to
    resume it waits for nothing: it is refused, or finds the journal gone)."""
    try:
        held = lock(journal)
    except JournalError:
        return "running"
    try:
        for path in (Path(f"{journal}-wal"), Path(f"{journal}-shm"), skipped_lines_path(journal)):
            path.unlink(missing_ok=True)
        journal.unlink()
    finally:
        unlock(held, journal)
    return None


def lines(done: list[Pruned], *, dry_run: bool) -> list[str]:
    """What prune did, one line per old journal."""
    verb = "would remove" if dry_run else "removed"
    out = []
    for item in done:
        age = f"{item.state.replace('_', ' ')}, {item.days:.0f} days old"
        if item.kept is None:
            out.append(f"{verb} {item.journal} ({age})")
        else:
            out.append(f"kept {item.journal}: {item.kept}")
    return out
