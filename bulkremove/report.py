"""The report of a journal: counts per campaign and state, input figures, requests, exit code.

A run by selection adds ``selection``: its filters and the listing's figures (passes, pages,
requests, numbers held back). ``snapshot`` is the journal's meta of that name (see
:mod:`bulkremove.snapshot`), or None. Built from the journal alone, so ``bulkremove report``
gives the same JSON for any journal, finished or not, as ``bulkremove run --report`` does at the
end of a run.
"""

from __future__ import annotations

from typing import Any

from bulkremove.journal import Journal
from bulkremove.kinds import kind_named, kind_of
from bulkremove.plan import selection_lines, snapshot_line

STATES = ("removed", "not_found", "in_call", "failed", "pending")
SHOWN_DISAGREEMENTS = 100
"""Disagreements a report lists; the journal's ``disagreements`` table holds them all."""


def build_report(journal: Journal, path: str) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    campaigns = {
        campaign: {state: counts.get(state, 0) for state in STATES}
        for campaign, counts in sorted(journal.counts().items())
    }
    totals = {state: sum(c[state] for c in campaigns.values()) for state in STATES}
    lost = journal.counts_after_lost_answer()
    input_stats = journal.get_meta("input") or {}
    kind = kind_of(journal.get_meta("settings") or {})
    # a customer id is one record; a phone number removes every record holding it
    records_removed = (
        sum(journal.removed_records().values()) if kind.several_records else totals["removed"]
    )
    return {
        "journal": path,
        "state": journal.get_meta("state") or "unknown",
        "target": kind.name,
        "campaigns": campaigns,
        "totals": totals,
        "records_removed": records_removed,
        "not_found_after_lost_answer": lost["not_found"],
        "failed_after_lost_answer": lost["failed"],
        "input": {
            key: int(input_stats.get(key, 0)) for key in ("lines", "ids", "duplicates", "invalid")
        },
        "skipped_lines": journal.get_meta("skipped_lines"),
        "requests": int(journal.get_meta("requests") or 0),
        "duration_s": round(float(journal.get_meta("duration_s") or 0.0), 3),
        "exit_code": journal.get_meta("exit_code"),
        "selection": journal.get_meta("listing"),
        "snapshot": journal.get_meta("snapshot"),
        "verified": verified_section(journal),
        "restore": journal.get_meta("restore"),
    }


def verified_section(journal: Journal) -> dict[str, Any] | None:
    """The latest verification's figures and its first disagreements, or None if never verified."""
    figures = journal.get_meta("verified")
    if figures is None:
        return None
    shown = journal.disagreements(SHOWN_DISAGREEMENTS)
    disagreements = [
        dict(zip(("campaign", "key", "state", "api"), row, strict=True)) for row in shown
    ]
    return {**figures, "disagreements": disagreements}


def summary_lines(report: dict[str, Any], failed_reason: str | None = None) -> list[str]:
    """A short summary for people, printed to stderr at the end of a run.

    ``failed_reason`` is the reason one of the failed records gives, to say why they failed.
    """
    totals = report["totals"]
    all_records = sum(totals.values())
    kind = kind_named(report.get("target"))
    lines = [
        f"journal: {report['journal']}",
        f"{kind.noun}: {all_records}  removed: {totals['removed']}  not found: "
        f"{totals['not_found']}  in call: {totals['in_call']}  failed: {totals['failed']}"
        f"  pending: {totals['pending']}"
        # a key that matches several records: say how many records went
        + (f"  records removed: {report['records_removed']}" if kind.several_records else ""),
    ]
    lines.extend(lost_answer_lines(report))
    inp = report["input"]
    listed = f" (listed in {report['skipped_lines']})" if report.get("skipped_lines") else ""
    sent = f"requests: {report['requests']};  time: {report['duration_s']:.1f} s"
    if report.get("selection"):
        lines += selection_lines(report["selection"])
        lines.append(sent)
    else:
        lines.append(
            f"input: {inp['lines']} lines, {inp['ids']} {kind.keys_word}, "
            f"{inp['duplicates']} duplicates, {inp['invalid']} invalid{listed};  {sent}"
        )
    if report.get("snapshot"):
        lines.append(snapshot_line(report["snapshot"]))
    # An aborted run's error line says what to fix: resuming as it is would fail again.
    if report["state"] != "aborted":
        lines.extend(next_steps(report["journal"], totals, failed_reason))
    return lines


def lost_answer_lines(report: dict[str, Any]) -> list[str]:
    """The records answered after a lost answer, when there are any: what they probably mean."""
    lines = []
    if report["not_found_after_lost_answer"]:
        lines.append(
            f"not found after a lost answer (probably removed by this run): "
            f"{report['not_found_after_lost_answer']}"
        )
    if report["failed_after_lost_answer"]:
        lines.append(
            f"failed after an unreadable or lost answer (may be removed already): "
            f"{report['failed_after_lost_answer']}"
        )
    return lines


def next_steps(journal: str, totals: dict[str, int], failed_reason: str | None) -> list[str]:
    """What to do about the records left, by what they are: each hint fits its state."""
    resume = f"bulkremove run --resume {journal}"
    steps = []
    if totals["pending"]:
        steps.append(f"left to do: {totals['pending']} pending, never answered: {resume}")
    if totals["failed"]:
        why = f" ({failed_reason})" if failed_reason else ""
        again = "" if totals["pending"] else f": {resume} tries them again"
        steps.append(f"{totals['failed']} failed{why}{again}")
    if totals["in_call"] and not steps:
        steps.append(
            f"{totals['in_call']} still in a call: bulkremove export {journal} --state in_call "
            f"lists them to feed back later, or {resume} later"
        )
    return steps
