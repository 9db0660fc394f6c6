"""The HTML run report as one file: tables written here, charts drawn by the inlined uPlot.

Everything the page needs is in it: uPlot's script and style (``vendor/``), the page's own
(``report.js``, ``report.css``) and the series as JSON. A Content-Security-Policy forbids any
fetch, so a page opened from a mail attachment or an archive shows the same as it did here.
"""

from __future__ import annotations

import datetime
import itertools
import sys
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from bulkremove.files import write_atomically
from bulkremove.journal import Journal
from bulkremove.journal.restores import RESTORE_STATES
from bulkremove.page.content import page_content
from bulkremove.plan import snapshot_line
from bulkremove.report import SHOWN_DISAGREEMENTS, STATES, lost_answer_lines

POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
"""Inline script and style only: the page fetches nothing."""
STATE_NAMES = {
    "removed": "removed",
    "not_found": "not found",
    "in_call": "in call",
    "failed": "failed",
    "pending": "pending",
}
FAILED_REQUESTS = {
    "throttled": "throttled (429)",
    "server_errors": "server errors (5xx, unreadable answers)",
    "timeouts": "timeouts",
    "connection_errors": "connection errors",
}


def write_page(journal: Journal, path: str, out: str, *, durable: bool = False) -> None:
    """Write the HTML report of ``journal`` (opened from ``path``) to the file ``out`` (whole,
    by a rename), or to stdout for ``-``."""
    page = render_page(journal, path).encode()
    if out == "-":
        sys.stdout.buffer.write(page)
        sys.stdout.flush()
        return
    write_atomically(out, page, durable=durable)


def render_page(journal: Journal, path: str) -> str:
    """The HTML report of ``journal`` (opened from ``path``), as one self-contained page."""
    content = page_content(journal, path)
    report = content["report"]
    title = f"bulkremove run report: {Path(path).name}"
    body = [
        _header(content),
        _exit(content),
        _plan(content),
        _outcomes(content, journal),
        _over_time(content),
        _retries(content),
        _verified(report.get("verified")),
        _restored(report.get("restore"), journal),
        f"<footer>made by bulkremove {escape(content['made_by'])} on "
        f"{escape(_when(content['made_at']))} from {escape(path)}</footer>",
    ]
    data = orjson.dumps(content["series"]).replace(b"<", b"\\u003c").decode()
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{_asset('vendor/uPlot.min.css')}\n{_asset('report.css')}</style>",
            "</head><body>",
            *body,
            f'<script type="application/json" id="series">{data}</script>',
            f"<script>{_asset('vendor/uPlot.iife.min.js')}</script>",
            f"<script>{_asset('report.js')}</script>",
            "</body></html>",
            "",
        ]
    )


def _asset(name: str) -> str:
    text = resources.files("bulkremove.page").joinpath(name).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


def _header(content: Mapping[str, Any]) -> str:
    report = content["report"]
    facts = [
        ("state", report["state"]),
        ("target", report["target"]),
        ("started", _when(content["created_at"])),
        ("time sending", content["duration"]),
        ("requests", report["requests"]),
        ("runs", content["runs"]),
    ]
    return (
        f"<header><h1>Run report</h1><p class=journal>{escape(report['journal'])}</p>"
        f"{_facts(facts)}</header>"
    )


def _exit(content: Mapping[str, Any]) -> str:
    found = content["exit"]
    if found is None:
        text = "<p>no exit code: the run has not ended (or never started)</p>"
        tone = "unknown"
    else:
        tone = "ok" if found["code"] == 0 else "bad"
        text = (
            f'<p><span class=code data-figure="exit_code">{found["code"]}</span> '
            f'<span data-figure="exit_meaning">{escape(found["meaning"])}</span></p>'
        )
    return f'<section id=exit class="exit {tone}"><h2>Exit</h2>{text}</section>'


def _plan(content: Mapping[str, Any]) -> str:
    report, plan = content["report"], content["plan"]
    parts = ["<section id=plan><h2>Plan</h2>"]
    if content["selection_lines"]:
        parts.append(_list(content["selection_lines"], "selection"))
    else:
        inp = report["input"]
        parts.append(
            _facts([(name, inp[name]) for name in ("lines", "ids", "duplicates", "invalid")])
        )
    if report["state"] == "dry_run":
        parts.append("<p>a dry run: nothing was sent</p>")
    if plan is None:
        parts.append("<p>no plan kept in this journal</p>")
    else:
        parts.append(
            _facts(
                [
                    ("resumed", "yes" if plan["resumed"] else "no"),
                    ("to send", f"{plan['ids']} {content['noun']}"),
                    ("requests", plan["requests"]),
                    ("rate", f"{plan['rate']:g} req/s"),
                    ("least time", f"{plan['seconds']:g} s"),
                    ("ids per request", plan["max_ids_per_request"]),
                    ("max_delete", plan["max_delete"] if plan["max_delete"] else "none"),
                    ("API", plan["base_url"]),
                ]
            )
        )
        rows = [[escape(c), n] for c, n in plan["campaigns"].items()]
        parts.append(_table(["campaign", content["noun"]], rows))
    if report.get("snapshot"):
        parts.append(_list([snapshot_line(report["snapshot"])], "snapshot"))
    parts.append("</section>")
    return "".join(parts)


def _outcomes(content: Mapping[str, Any], journal: Journal) -> str:
    report = content["report"]
    several = content["several_records"]
    records = journal.removed_records() if several else {}
    head = ["campaign", *STATE_NAMES.values()] + (["records removed"] if several else [])
    rows: list[list[Any]] = []
    for campaign, counts in report["campaigns"].items():
        extra = [records.get(campaign, 0)] if several else []
        rows.append([escape(campaign), *(counts[s] for s in STATES), *extra])
    totals = report["totals"]
    figures = [f'<span data-figure="{s}">{totals[s]}</span>' for s in STATES]
    removed = f'<span data-figure="records_removed">{report["records_removed"]}</span>'
    rows.append(["all", *figures, *([removed] if several else [])])
    notes = lost_answer_lines(report)
    return (
        f"<section id=outcomes><h2>Outcomes per campaign</h2><p>{escape(content['noun'])} by"
        f" state</p>{_table(head, rows, total=True)}"
        f"{_list(notes, 'notes')}</section>"
    )


def _over_time(content: Mapping[str, Any]) -> str:
    charts = [
        ("pace", "ids answered per second, requests per second, and the rate in force"),
        ("trouble", "failed requests per bucket: throttled, server errors, timeouts, connections"),
        ("waits", "ids waiting on a call, and seconds paused by Retry-After per bucket"),
    ]
    divs = "".join(
        f'<figure><figcaption>{escape(caption)}</figcaption><div id="chart-{name}" '
        f'class=chart data-chart="{name}"></div></figure>'
        for name, caption in charts
    )
    return (
        "<section id=over-time><h2>Over time</h2>"
        "<p class=empty hidden>nothing was sent: no figures over time</p>"
        f"{divs}</section>"
    )


def _retries(content: Mapping[str, Any]) -> str:
    figures = content["retries"]
    failed = [
        (label, f'<span data-figure="{name}">{int(figures[name])}</span>')
        for name, label in FAILED_REQUESTS.items()
    ]
    waited = [
        ("requests retried", f'<span data-figure="retries">{int(figures["retries"])}</span>'),
        ("their waits before going again", f"{figures['retry_wait_s']:.1f} s"),
        ("sending paused by Retry-After", f"{figures['paused_s']:.1f} s"),
    ]
    calls = [
        [STATE_NAMES[state], int(w["records"]), f"{w['mean_s']:.1f} s", f"{w['longest_s']:.1f} s"]
        for state, w in content["call_waits"].items()
    ]
    call_table = (
        _table(["state now", "records", "mean wait", "longest wait"], calls)
        if calls
        else "<p>no record was found in a call</p>"
    )
    return (
        "<section id=retries><h2>Retries</h2><h3>Requests that failed</h3>"
        f"{_facts(failed, raw=True)}{_facts(waited, raw=True)}"
        "<h3>Records found in a call</h3><p>from the first CALL_IN_PROGRESS to the last try"
        f"</p>{call_table}</section>"
    )


def _verified(section: Mapping[str, Any] | None) -> str:
    if section is None:
        return ""
    from bulkremove.verify.proof import how_lines

    facts = [(name, section[name]) for name in ("checked", "agree", "disagree")]
    rows = [
        [escape(str(d[k])) for k in ("campaign", "key", "state", "api")]
        for d in section["disagreements"]
    ]
    found = _table(["campaign", "key", "journal", "API"], rows) if rows else ""
    return (
        f"<section id=verified><h2>Verified</h2>{_facts(facts)}"
        f"{_list(how_lines(dict(section)), 'how')}{found}</section>"
    )


def _restored(counts: Mapping[str, Any] | None, journal: Journal) -> str:
    """The restore's counts, and each record it did not add back with the API's answer."""
    if counts is None:
        return ""
    facts = [(state, counts.get(state, 0)) for state in RESTORE_STATES]
    left_out = itertools.chain(journal.restores("failed"), journal.restores("pending"))
    rows = [
        [escape(campaign), escape(str(key)), escape(state), escape(detail)]
        for campaign, key, state, _, detail in itertools.islice(left_out, SHOWN_DISAGREEMENTS)
    ]
    left = _table(["campaign", "key", "state", "answer"], rows) if rows else ""
    return f"<section id=restored><h2>Restored</h2>{_facts(facts)}{left}</section>"


def _facts(pairs: Iterable[tuple[str, Any]], *, raw: bool = False) -> str:
    items = "".join(
        f"<dt>{escape(name)}</dt><dd>{value if raw else escape(str(value))}</dd>"
        for name, value in pairs
    )
    return f"<dl class=facts>{items}</dl>"


def _list(lines: Sequence[str], name: str) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f"<ul class={name}>{items}</ul>"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], *, total: bool = False) -> str:
    """Cells are written as given: callers escape text; numbers are right-aligned."""
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for i, row in enumerate(rows):
        last = " class=total" if total and i == len(rows) - 1 else ""
        cells = "".join(
            f"<td class=n>{cell}</td>" if isinstance(cell, int | float) else f"<td>{cell}</td>"
            for cell in row
        )
        body.append(f"<tr{last}>{cells}</tr>")
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _when(unix: float | None) -> str:
    if unix is None:
        return "unknown"
    moment = datetime.datetime.fromtimestamp(float(unix), datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
