"""What the HTML run report shows, read from a journal into one JSON-ready dict."""

from __future__ import annotations

import time
from typing import Any

from bulkremove._version import __version__
from bulkremove.exits import MEANINGS
from bulkremove.journal import Journal
from bulkremove.kinds import kind_named
from bulkremove.plan import format_duration, selection_lines
from bulkremove.report import build_report
from bulkremove.series import COUNTS, GAUGES, RETRIES


def page_content(journal: Journal, path: str) -> dict[str, Any]:
    """The report of ``journal`` and what the page adds to it: plan, series, waits, exit."""
    report = build_report(journal, path)
    kind = kind_named(report.get("target"))
    code = report["exit_code"]
    series = journal.series()
    return {
        "report": report,
        "noun": kind.noun,
        "several_records": kind.several_records,
        "plan": journal.get_meta("plan"),
        "selection_lines": selection_lines(report["selection"]) if report["selection"] else [],
        "exit": None if code is None else {"code": code, "meaning": MEANINGS.get(code, "")},
        "duration": format_duration(report["duration_s"]),
        "series": columns(series),
        "runs": len({row["run"] for row in series}),
        "retries": retry_figures(series),
        "call_waits": journal.call_waits(),
        "created_at": journal.get_meta("created_at"),
        "tool_version": journal.get_meta("tool_version"),
        "made_by": __version__,
        "made_at": time.time(),
    }


def columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The series as the charts take it: one list per figure, per second where it is a count.

    Each value is drawn as a step from its bucket's start, so each run ends with its last
    bucket's values again at its end. A bucket with no sample (nothing was committed in it) is
    shown as zero counts, its gauges as the bucket's before. Between two runs of a journal a row
    of nulls, so that no line joins them across the gap.
    """
    out: dict[str, list[Any]] = {
        name: [] for name in ("at", "ids_per_s", "requests_per_s", *COUNTS, *GAUGES)
    }
    last: dict[str, Any] | None = None
    for row in rows:
        if last is not None and row["run"] != last["run"]:
            _append(out, {**last, "at": last["at"] + last["width"]})  # where the run ends
            for name, values in out.items():
                values.append(row["at"] - 0.001 if name == "at" else None)
        elif last is not None:
            width = last["width"]
            missing = round((row["at"] - last["at"]) / width) - 1 if width else 0
            for step in range(1, missing + 1):
                quiet = {**last, **dict.fromkeys(COUNTS, 0), "at": last["at"] + step * width}
                _append(out, quiet)
        _append(out, row)
        last = row
    if last is not None:
        _append(out, {**last, "at": last["at"] + last["width"]})
    return out


def _append(out: dict[str, list[Any]], row: dict[str, Any]) -> None:
    width = row["width"] or 1.0
    done = row["removed"] + row["not_found"] + row["failed"]
    out["at"].append(row["at"])
    out["ids_per_s"].append(round(done / width, 2))
    out["requests_per_s"].append(round(row["requests"] / width, 2))
    for name in (*COUNTS, *GAUGES):
        out[name].append(row[name])


def retry_figures(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The series' totals of failed requests, retries and the time they waited."""
    return {name: round(sum(row[name] for row in rows), 3) for name in RETRIES}
