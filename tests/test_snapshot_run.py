"""Snapshots of runs from input files, end to end against the sandbox over loopback."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e import bulkremove, env, run_args, run_cli, sandbox, start, write_ids, write_records

pytestmark = pytest.mark.timeout(60)

KEPT = ("record_id", "status_id", "agent_login", "next_call_date", "order", "system_status")


def _customers(count: int) -> list[dict[str, Any]]:
    """Customers 1..count; every third MY_RECORD with an agent, every fifth called back later."""
    return [
        {
            "customer_id": i,
            "status_id": str(i % 4 + 1),
            "order": i % 7,
            "agent_login": "ann" if i % 3 == 0 else None,
            "next_call_date": "2026-03-01 09:30:00" if i % 5 == 0 else None,
        }
        for i in range(1, count + 1)
    ]


def _listed(journal: Path) -> dict[Any, list[dict[str, Any]]]:
    con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT key, fields FROM listed").fetchall()
    finally:
        con.close()
    found: dict[Any, list[dict[str, Any]]] = {}
    for key, fields in rows:
        found.setdefault(key, []).append(json.loads(fields))
    return found


def _report(done: Any) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize(
    ("ids", "way", "gets"),
    [
        ([*range(1, 250), 9001], "listing", 1 + 4),  # the count, then 4 pages of 300 records
        ([3, 10, 15, 9001], "record", 1 + 4),  # the count, then 4 GETs (one answers 404)
    ],
)
def test_always_keeps_exactly_the_removed_records_as_listed(
    tmp_path: Path, ids: list[int], way: str, gets: int
) -> None:
    customers = _customers(300)
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", customers)
    write_ids(tmp_path / "ids.txt", ids)
    with sandbox("--records", str(seed)) as server:
        done = run_cli(server, "ids.txt", "--snapshot", "always", "--report", "-", cwd=tmp_path)
        stats = server.stats()
    report = _report(done)
    assert stats["gets"] == gets
    snapshot = report["snapshot"]
    assert snapshot["state"] == "taken" and snapshot["ways"] == {"00001": way}
    assert snapshot["found"] == len(ids) - 1 and snapshot["missing"] == 1  # customer 9001
    assert f"snapshot: taken, {'listing campaign' if way == 'listing' else 'one GET'}" in (
        done.stderr
    )
    listed = _listed(tmp_path / "j.sqlite")
    removed = set(ids) - {9001}
    assert set(listed) == removed
    by_id = {c["customer_id"]: c for c in customers}
    for key, (fields,) in listed.items():
        assert fields["customer_id"] == key
        shown = {name: fields[name] for name in KEPT}
        assert shown == {"system_status": "TO_CALL", "record_id": key, **{
            name: by_id[key][name] for name in KEPT[1:-1]
        }}  # fmt: skip


def test_auto_takes_a_cheap_snapshot_declines_a_dear_one_and_a_dry_run_takes_none(
    tmp_path: Path,
) -> None:
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", _customers(100))
    write_ids(tmp_path / "ids.txt", range(1, 41))
    with sandbox("--records", str(seed), "--campaign", "00002=1-1000") as server:
        # 40 ids, 2 a request: 20 requests; a page of 100 records adds 1 (and the count 1)
        cheap = run_cli(
            server, "ids.txt", "--max-ids-per-request", "2", "--report", "-", cwd=tmp_path
        )
        assert _report(cheap)["snapshot"]["state"] == "taken"
        assert server.stats()["gets"] == 2 and len(_listed(tmp_path / "j.sqlite")) == 40
        # 40 ids, 10 a request: 4 requests; 40 GETs or 11 pages are more than 1
        dear = run_cli(
            server, "ids.txt", "--max-ids-per-request", "10", "--report", "-",
            cwd=tmp_path, journal="dear.sqlite", campaign="00002",
        )  # fmt: skip
        report = _report(dear)
        assert report["snapshot"]["state"] == "not_taken" and report["totals"]["removed"] == 40
        assert server.stats()["gets"] == 3, "one GET counted the campaign"
        assert "snapshot: none taken: 11 GETs would add more than a quarter" in dear.stderr
        assert "snapshot_not_taken" in dear.stderr
        # the default batching: one request, so not even the count is asked
        write_ids(tmp_path / "more.txt", range(500, 600))
        plain = run_cli(server, "more.txt", cwd=tmp_path, journal="p.sqlite", campaign="00002")
        assert plain.returncode == 0 and server.stats()["gets"] == 3
        assert "at least 1 GET would add more than a quarter to the run's 1 request" in (
            plain.stderr
        )
        # a dry run shows what a snapshot would cost (860 records left: 10 pages), takes none
        write_ids(tmp_path / "later.txt", range(600, 700))
        dry = run_cli(
            server, "later.txt", "--snapshot", "always", "--dry-run", "--report", "plan.json",
            cwd=tmp_path, journal="d.sqlite", campaign="00002",
        )  # fmt: skip
        assert dry.returncode == 0, dry.stderr
        plan = json.loads((tmp_path / "plan.json").read_text())["plan"]
        assert plan["snapshot"]["cost"] == 10 and plan["snapshot"]["ways"] == {"00002": "listing"}
        assert "snapshot: 10 GETs before the first DELETE, listing campaign 00002" in dry.stderr
        assert not _listed(tmp_path / "d.sqlite") and server.stats()["ids_requested"] == 180
        assert server.stats()["gets"] == 4, "the dry run counted the campaign, and no more"
        # its resume decides again, and takes it
        done = bulkremove(["run", "--resume", "d.sqlite", "--report", "-"], cwd=tmp_path)
        assert _report(done)["snapshot"]["state"] == "taken"
        assert set(_listed(tmp_path / "d.sqlite")) == set(range(600, 700))


def test_a_phone_snapshot_keeps_every_record_of_each_number(tmp_path: Path) -> None:
    numbers = ["0048500100200", "48500100200", "600700800", "111"]
    records = [
        {"phone_number": numbers[i % 4], "identifier": f"A-{i}", "status_id": str(i % 3 + 1)}
        for i in range(12)
    ]
    seed = write_records(tmp_path / "p.json", "00007", "phone_number", records)
    (tmp_path / "numbers.txt").write_text("0048500100200\n600700800\n999\n")
    with sandbox("--records", str(seed)) as server:
        done = run_cli(
            server, "numbers.txt", "--target", "phone_number", "--snapshot", "always",
            "--report", "-", cwd=tmp_path, campaign="00007",
        )  # fmt: skip
        left = {r["phone_number"] for r in server.records("00007")}
    report = _report(done)
    assert report["snapshot"]["ways"] == {"00007": "listing"}
    assert report["snapshot"]["found"] == 6 and report["snapshot"]["missing"] == 1  # 999
    listed = _listed(tmp_path / "j.sqlite")
    assert {key: len(fields) for key, fields in listed.items()} == {
        "0048500100200": 3,
        "600700800": 3,
    }
    assert {f["identifier"] for f in listed["600700800"]} == {"A-2", "A-6", "A-10"}
    assert left == {"48500100200", "111"}


def test_a_snapshot_killed_midway_resumes_and_no_delete_goes_before_it_is_whole(
    tmp_path: Path,
) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 1501))
    journal = tmp_path / "k.sqlite"
    with sandbox("--campaign", "00001=1-2000") as server:
        _kill_when(server, journal, "10", lambda: _progress(journal) >= 5)
        kept, stats = _progress(journal), server.stats()
        assert 5 <= kept < 23 and stats["ids_requested"] == 0, "no DELETE before the snapshot"
        done = bulkremove(["run", "--resume", str(journal), "--report", "-"], cwd=tmp_path)
        report = _report(done)
        assert server.stats()["gets"] - stats["gets"] == 23 - kept, "only the pages not read"
        assert server.remaining() == set(range(1501, 2001))
    assert report["snapshot"]["found"] == 1500 and report["snapshot"]["missing"] == 0
    assert report["snapshot"]["sent"] == 23, "the count was asked before, in the plan"
    assert set(_listed(journal)) == set(range(1, 1501))


def test_single_gets_killed_midway_resume_after_the_last_chunk(tmp_path: Path) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 301))  # 300 GETs, against 1112 pages
    journal = tmp_path / "r.sqlite"
    with sandbox("--campaign", "00001=1-100000") as server:
        _kill_when(server, journal, "100", lambda: bool(_snapshot(journal).get("after")))
        stats = server.stats()
        assert _snapshot(journal) == {"after": 200} and stats["ids_requested"] == 0
        done = bulkremove(["run", "--resume", str(journal), "--report", "-"], cwd=tmp_path)
        report = _report(done)
        assert server.stats()["gets"] - stats["gets"] == 100, "only the keys after the chunk"
    assert report["snapshot"]["ways"] == {"00001": "record"} and report["snapshot"]["found"] == 300
    assert set(_listed(journal)) == set(range(1, 301)) and report["totals"]["removed"] == 300


def _kill_when(server: Any, journal: Path, rate: str, reached: Callable[[], bool]) -> None:
    """Start a run of ids.txt beside ``journal`` with ``--snapshot always`` at ``rate``, and
    SIGKILL it once ``reached``."""
    process = start(
        run_args(server, "ids.txt", "--snapshot", "always", "--rate", rate, "--rate-burst", "1",
                 journal=str(journal)),
        cwd=journal.parent,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not reached() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _snapshot(journal: Path) -> dict[str, Any]:
    """How far the snapshot of campaign 00001 a journal holds has come."""
    try:
        con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'snapshot'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return {}
    progress: dict[str, Any] = json.loads(row[0]).get("progress", {}) if row else {}
    return dict(progress.get("00001", {}))


def _progress(journal: Path) -> int:
    """The pages of the snapshot a journal has committed."""
    offset = _snapshot(journal).get("offset")
    return 0 if offset is None else (offset + 10) // 90


def test_a_refused_run_asks_no_size_and_a_dry_run_without_credentials_shows_the_cost_unknown(
    tmp_path: Path,
) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 41))
    with sandbox("--campaign", "00001=1-100") as server:
        refused = run_cli(
            server, "ids.txt", "--snapshot", "always", "--max-delete", "10", cwd=tmp_path
        )
        assert refused.returncode == 2 and "max_delete" in refused.stderr
        anonymous = {k: v for k, v in env().items() if k != "BULKREMOVE_PASSWORD"}
        dry = run_cli(
            server, "ids.txt", "--snapshot", "always", "--dry-run",
            cwd=tmp_path, journal="d.sqlite", environ=anonymous,
        )  # fmt: skip
        stats = server.stats()
    assert dry.returncode == 0, dry.stderr
    assert "snapshot: taken before the first DELETE, at a cost not known" in dry.stderr
    assert "campaigns not counted: no credentials" in dry.stderr
    assert stats["gets"] == 0 and stats["requests"] == 0
