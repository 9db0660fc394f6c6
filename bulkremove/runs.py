"""``bulkremove runs``: the journals in a folder, with their campaigns, start, state and counts.

The state comes from the journal's meta, checked against its lock: a journal that says it is
running while no process holds its lock was killed, and is shown as ``interrupted`` (so is one
whose ingest never finished).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulkremove.errors import JournalError
from bulkremove.journal import Journal, writer_pid
from bulkremove.report import STATES

SHOWN = {"dry_run": "dry run", "journal_failed": "journal failed"}
"""How a state is written in the table, where it differs from the JSON."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One journal as ``runs`` lists it. ``error`` is set for a file that cannot be read."""

    journal: str
    campaigns: list[str]
    started: float | None
    state: str
    exit_code: int | None
    counts: dict[str, int]
    pid: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; ``started`` as ISO 8601 UTC."""
        return {
            "journal": self.journal,
            "campaigns": self.campaigns,
            "started": _iso(self.started),
            "state": self.state,
            "exit_code": self.exit_code,
            "counts": self.counts,
            "pid": self.pid,
            "error": self.error,
        }


def list_runs(folder: str) -> Iterator[RunInfo]:
    """The journals (``*.sqlite``) in ``folder``, oldest first; unreadable ones say why."""
    path = Path(folder)
    if not path.is_dir():
        raise JournalError(f"no journal folder {folder}")
    files = sorted(p for p in path.glob("*.sqlite") if p.is_file())
    infos = [read_run(str(p)) for p in files]
    yield from sorted(infos, key=lambda info: (info.started or 0.0, info.journal))


def read_run(path: str) -> RunInfo:
    """What one journal says of its run."""
    try:
        with Journal.open(path) as journal:
            counts = journal.counts()
            state = journal.get_meta("state")  # None while the input is being read
            started = journal.get_meta("created_at")
            exit_code = journal.get_meta("exit_code")
        pid = writer_pid(path) if state in (None, "ready", "running") else None
    except JournalError as exc:
        empty = dict.fromkeys(STATES, 0)
        return RunInfo(path, [], None, "unreadable", None, empty, error=str(exc))
    if state in (None, "ready", "running"):
        # Without a writer it was killed (or the machine went down) before it could say so.
        state = "interrupted" if pid is None else (state or "running")
    totals = {s: sum(c.get(s, 0) for c in counts.values()) for s in STATES}
    return RunInfo(path, sorted(counts), started, state, exit_code, totals, pid)


def table(runs: list[RunInfo]) -> list[str]:
    """A readable table, one line per journal."""
    head = ["JOURNAL", "STARTED (UTC)", "CAMPAIGNS", "STATE", "EXIT", "RECORDS", *_COLUMNS]
    rows = [head]
    for run in runs:
        campaigns = ",".join(run.campaigns[:3]) + ("..." if len(run.campaigns) > 3 else "")
        rows.append(
            [
                run.journal,
                (_iso(run.started) or "-").replace("T", " ").removesuffix("Z"),
                campaigns or "-",
                SHOWN.get(run.state, run.state),
                "-" if run.exit_code is None else str(run.exit_code),
                str(sum(run.counts.values())),
                *(str(run.counts[state]) for state in STATES),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines += [f"{run.journal}: {run.error}" for run in runs if run.error]
    return lines


_COLUMNS = [state.upper() for state in STATES]


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
