"""How a run ends on screen: the next step fits what the journal holds, and the last frame of
the live display says how the run ended."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bulkremove.report import summary_lines


def report(state: str = "finished", **totals: int) -> dict[str, Any]:
    counts = {"removed": 5, "not_found": 0, "in_call": 0, "failed": 0, "pending": 0, **totals}
    return {
        "journal": "j.sqlite",
        "state": state,
        "totals": counts,
        "not_found_after_lost_answer": 0,
        "failed_after_lost_answer": 0,
        "input": {"lines": 5, "ids": 5, "duplicates": 0, "invalid": 0},
        "requests": 1,
        "duration_s": 0.1,
    }


def hint(lines: list[str]) -> str:
    return "\n".join(lines[3:])


def test_pending_ids_say_resume() -> None:
    text = hint(summary_lines(report("interrupted", pending=7, in_call=1)))
    assert "7 pending" in text and "bulkremove run --resume j.sqlite" in text
    assert "export" not in text


def test_only_in_call_says_export_them_or_resume_later() -> None:
    text = hint(summary_lines(report(in_call=3)))
    assert "3 still in a call" in text
    assert "bulkremove export j.sqlite --state in_call" in text and "--resume j.sqlite" in text


def test_failed_gives_the_reason_and_resume() -> None:
    text = hint(summary_lines(report(failed=2), failed_reason="HTTP 500: tries ran out"))
    assert "2 failed" in text and "HTTP 500: tries ran out" in text
    assert "bulkremove run --resume j.sqlite" in text


def test_nothing_left_and_aborted_runs_give_no_resume_advice() -> None:
    assert "--resume" not in hint(summary_lines(report()))
    assert "--resume" not in hint(summary_lines(report("aborted", pending=5)))


@pytest.mark.parametrize(
    ("ending", "words"),
    [
        ("finished", "done in"),
        ("interrupted", "interrupted after"),
        ("aborted", "aborted after"),
        ("journal_failed", "journal failed after"),
        ("stopped", "stopped after"),
    ],
)
def test_the_last_frame_says_how_the_run_ended(ending: str, words: str) -> None:
    from rich.console import Console

    from bulkremove.display import LiveDisplay
    from bulkremove.progress import Progress

    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    last = Progress(
        total=10, removed=4, not_found=0, in_call=0, failed=0, pending=6, requests=2,
        rate=5.0, ids_per_s=0.0, elapsed_s=65.0, eta_s=None, final=True, ending=ending,
    )  # fmt: skip
    console.print(LiveDisplay(console).render(last))
    assert f"{words} 1 min 05 s" in out.getvalue()
