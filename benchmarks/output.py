"""The printed table: one row per measurement, aligned, and the phases of a run."""

from __future__ import annotations

from benchmarks.process import ProcessRun


def rate(ids: float, seconds: float) -> str:
    return f"{ids / seconds:>12,.0f} ids/s"


def row(section: str, what: str, seconds: float | None, detail: str) -> None:
    shown = f"{seconds:9.2f} s" if seconds is not None else " " * 11
    print(f"{section:<11} {what:<44} {shown}  {detail}")


def phases(run: ProcessRun) -> str:
    """Start-up, ingest, sending, and exit, from the run's own log events."""
    events = run.events
    created, read, finished = (
        events.get("journal_created"),
        events.get("input_read"),
        events.get("run_finished"),
    )
    if created is None or read is None or finished is None:
        return "(log events missing: no phase split)"
    return (
        f"start-up {created:.2f} s, ingest {read - created:.2f} s, "
        f"sending {finished - read:.2f} s, exit {run.wall_s - finished:.2f} s"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
