"""The closing lines of a run's summary: the next step fits what the journal holds."""

from __future__ import annotations

from typing import Any

from bulkremove.report import summary_lines


def report(state: str = "finished", **totals: int) -> dict[str, Any]:
    counts = {"removed": 5, "not_found": 0, "in_call": 0, "failed": 0, "pending": 0, **totals}
    return {
        "journal": "j.sqlite",
        "state": state,
        "totals": counts,
        "not_found_after_lost_answer": 0,
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
