"""The HTML run report: what it shows, written by ``run --html`` and ``report --html``, and
drawn by a real headless Chromium with no console error and no request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bulkremove.journal import Journal, OutcomeGroup
from bulkremove.journal.restores import RestoreOutcome
from bulkremove.page import render_page, write_page
from bulkremove.page.content import columns
from bulkremove.series import COUNTS, GAUGES
from bulkremove.tally import Tally
from tests.browser import chromium, open_pages
from tests.e2e import bulkremove, run_cli, sandbox, write_ids

FETCHES = re.compile(r"""(src|href|action)\s*=|url\(|@import""", re.IGNORECASE)


def _row(run: int, at: float, width: float = 1.0, **figures: float) -> dict[str, object]:
    row: dict[str, object] = {"run": run, "at": at, "width": width}
    row.update(dict.fromkeys(COUNTS, 0))
    row.update(dict.fromkeys(GAUGES))
    row.update(figures)
    return row


def test_quiet_buckets_are_zeros_and_runs_are_kept_apart() -> None:
    rows = [
        _row(1, 100.0, 2.0, removed=40, requests=4, rate=5.0),
        _row(1, 106.0, 2.0, removed=10, throttled=1, rate=2.5),
        _row(2, 500.0, 1.0, not_found=3, requests=1, rate=5.0),
    ]
    shown = columns(rows)
    assert shown["at"] == [100.0, 102.0, 104.0, 106.0, 108.0, 499.999, 500.0, 501.0]
    assert shown["ids_per_s"] == [20.0, 0.0, 0.0, 5.0, 5.0, None, 3.0, 3.0]
    assert shown["requests_per_s"] == [2.0, 0.0, 0.0, 0.0, 0.0, None, 1.0, 1.0]
    assert shown["throttled"] == [0, 0, 0, 1, 1, None, 0, 0]
    assert shown["rate"] == [5.0, 5.0, 5.0, 2.5, 2.5, None, 5.0, 5.0]


def test_a_phone_journal_by_selection_shows_its_filters_and_records_removed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "phone.sqlite"
    with Journal.create(path, {"target": "phone_number"}) as journal:
        journal.add_pending([("00001", [1441, 1442])])
        removed = OutcomeGroup("00001", [1441], "removed", 5.0, records=[(1441, 11), (1441, 12)])
        journal.record_groups([removed])
        listing = {"campaign": "00001", "where": {"system_status": ["NO_CALL"]}, "count": 2}
        journal.set_metas({"listing": listing})
        page = render_page(journal, str(path))
    assert "<p>phone numbers by state</p>" in page
    assert 'data-figure="removed">1<' in page and 'data-figure="records_removed">2<' in page
    assert "selection: campaign 00001 where system_status=NO_CALL" in page


def test_a_restored_journal_shows_its_snapshot_and_every_record_not_added_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "restored.sqlite"
    with Journal.create(path, {"campaign": "00001"}) as journal:
        journal.add_pending([("00001", [7, 8, 9])])
        journal.record_groups([OutcomeGroup("00001", [7, 8, 9], "removed", 5.0, [70, 80, 90])])
        snapshot = {"setting": "always", "state": "taken", "ways": {"00001": "single"}}
        journal.set_metas({"snapshot": {**snapshot, "found": 3, "missing": 0}})
        journal.add_restores("00001", [(70, 7), (80, 8), (90, 9)])
        journal.record_restores(
            "00001",
            [
                RestoreOutcome(70, "restored", 170, None),
                RestoreOutcome(80, "already_present", None, "ALREADY_EXISTS"),
                RestoreOutcome(90, "failed", None, "agent <gone> is unknown"),
            ],
        )
        journal.set_metas({"restore": {**journal.restore_counts(), "at": 6.0}})
        page = render_page(journal, str(path))
    assert "snapshot: taken, one GET per record of campaign 00001: 3 records kept" in page
    restored = page[page.index("<section id=restored>") :]
    restored = restored[: restored.index("</section>")]
    for state, count in (("restored", 1), ("already_present", 1), ("failed", 1), ("pending", 0)):
        assert f"<dt>{state}</dt><dd>{count}</dd>" in restored
    assert "agent &lt;gone&gt; is unknown" in restored, "failed records are listed, escaped"
    assert "ALREADY_EXISTS" not in restored, "only the records not added back are listed"


def _journal(path: Path, *, sent: bool) -> None:
    """A journal of two campaigns; when ``sent``, a run's outcomes, series and verification."""
    with Journal.create(path, {"campaign": None, "base_url": "http://127.0.0.1:9/api"}) as j:
        j.add_pending([("00001", list(range(1, 101))), ("00002", [7, 8, 9])])
        j.set_metas({"state": "dry_run", "input": {"lines": 103, "ids": 103}})
        if not sent:
            return
        now = [0.0]
        tally = Tally(j, clock=lambda: now[0], wall_clock=lambda: 1_800_000_000.0)
        done = {"removed": 0, "requests": 0}
        tally.figures = lambda: (dict(done, throttled=1, retries=1, retry_wait_s=2.0), {})
        for second in range(1, 11):
            ids = list(range(second * 10 - 9, second * 10 + 1))
            j.record_groups([OutcomeGroup("00001", ids, "removed", 1_800_000_000.0 + second)])
            done = {"removed": second * 10, "requests": second}
            now[0] = second
            tally.write()
        j.record_groups([OutcomeGroup("00002", [7], "in_call", 1_800_000_001.0, in_call=True)])
        j.record_groups([OutcomeGroup("00002", [7], "in_call", 1_800_000_031.0, in_call=True)])
        j.set_metas({"state": "finished", "exit_code": 4})
        figures = {"checked": 5, "agree": 4, "disagree": 1, "decided": 100}
        figures.update(not_checked_pending=2, mode="sample", sample=5, seed=42, ways={}, at=1.0)
        j.record_verification(figures, [("00001", 3, "removed", "still there")], at=1.0)


@pytest.mark.skipif(
    chromium() is None,
    reason="Chromium is not installed: the page is drawn by a real browser "
    "(apt-get install -y --no-install-recommends chromium)",
)
def test_chromium_draws_the_page_with_no_error_and_no_request(tmp_path: Path) -> None:
    pages = []
    for sent in (True, False):
        journal = tmp_path / f"sent-{sent}.sqlite"
        _journal(journal, sent=sent)
        page = tmp_path / f"sent-{sent}.html"
        with Journal.open(journal) as opened:
            write_page(opened, str(journal), str(page))
        assert not FETCHES.search(page.read_text())
        pages.append(page)
    check = """({
        charts: Number(document.body.dataset.charts),
        canvases: document.querySelectorAll('#over-time canvas').length,
        empty: !document.querySelector('#over-time .empty').hidden,
        figures: Object.fromEntries([...document.querySelectorAll('[data-figure]')]
            .map(e => [e.dataset.figure, e.textContent])),
        verified: document.querySelector('#verified') !== null,
        waits: document.querySelector('#retries table')?.innerText ?? '',
    })"""
    sent, dry = open_pages(pages, check)
    assert (sent.errors, dry.errors) == ([], [])
    assert sent.requests == [pages[0].as_uri()] and dry.requests == [pages[1].as_uri()]
    assert (sent.value["charts"], sent.value["canvases"], sent.value["empty"]) == (3, 3, False)
    assert sent.value["figures"] == {
        "exit_code": "4",
        "exit_meaning": "finished with records left in_call, failed or pending",
        "removed": "100",
        "not_found": "0",
        "in_call": "1",
        "failed": "0",
        "pending": "2",
        "throttled": "1",
        "server_errors": "0",
        "timeouts": "0",
        "connection_errors": "0",
        "retries": "1",
    }
    assert sent.value["verified"]
    assert "30.0 s" in sent.value["waits"]  # the record in a call, first to last try
    assert (dry.value["charts"], dry.value["canvases"], dry.value["empty"]) == (0, 0, True)
    assert "exit_code" not in dry.value["figures"]


def test_run_and_report_write_the_page(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 301))
    with sandbox("--campaign", "00001=1-200", "--error-share", "0.1", "--seed", "3") as server:
        done = run_cli(
            server, ids, "--max-ids-per-request", "10", "--html", "run.html", cwd=tmp_path
        )
    assert done.returncode == 0, done.stderr
    shown = bulkremove(["report", "j.sqlite", "--html", "report.html"], cwd=tmp_path)
    assert (shown.returncode, shown.stdout) == (0, "")
    piped = bulkremove(["report", "j.sqlite", "--html", "-"], cwd=tmp_path)
    assert piped.stdout.startswith("<!doctype html>") and piped.stdout.endswith("</html>\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ids.txt",
        "j.sqlite",
        "report.html",
        "run.html",
    ]
    run_page, report_page = (tmp_path / name for name in ("run.html", "report.html"))
    for page in (run_page, report_page):
        text = page.read_text()
        assert 'data-figure="removed">200<' in text
        assert 'data-figure="not_found">100<' in text
        assert 'data-figure="exit_code">0<' in text
        assert "Content-Security-Policy" in text and not FETCHES.search(text)
    made = re.compile(r"<footer>.*?</footer>")
    assert made.sub("", run_page.read_text()) == made.sub("", report_page.read_text())
    with Journal.open(tmp_path / "j.sqlite") as journal:
        rows = journal.series()
    assert sum(row["removed"] + row["not_found"] for row in rows) == 300
    assert sum(row["server_errors"] for row in rows) == sum(row["retries"] for row in rows) > 0


def test_a_page_that_cannot_be_written_is_refused_before_sending(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox("--campaign", "00001=1-10") as server:
        done = run_cli(server, ids, "--html", "nowhere/run.html", cwd=tmp_path)
        assert server.stats()["requests"] == 0
    assert done.returncode == 2
    assert "--html nowhere/run.html: the folder nowhere does not exist" in done.stderr
