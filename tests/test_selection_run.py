"""Runs by selection end to end: ``bulkremove run --where`` against the sandbox over loopback."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from e2e import bulkremove, sandbox, start, write_records

pytestmark = pytest.mark.timeout(60)

WHERE = [
    "--where", "system_status=NO_CALL", "--where", "system_status=abandoned_after_n_tries",
    "--where", "create_date_to=2025-12-31",
]  # fmt: skip


def _records(count: int) -> list[dict[str, Any]]:
    """Customers 1001..; a third NO_CALL, a third ABANDONED, a third TO_CALL; the last fifth
    created in 2026 (after the selection's date)."""
    statuses = ["TO_CALL", "NO_CALL", "ABANDONED_AFTER_N_TRIES"]
    return [
        {
            "customer_id": 1000 + i,
            "system_status": statuses[i % 3],
            "create_date": "2025-03-01 10:00:00" if i <= count * 4 // 5 else "2026-02-01 08:00:00",
        }
        for i in range(1, count + 1)
    ]


def _matching(records: list[dict[str, Any]]) -> set[int]:
    return {
        r["customer_id"]
        for r in records
        if r["system_status"] != "TO_CALL" and r["create_date"].startswith("2025")
    }


def _args(server: Any, *extra: str) -> list[str]:
    return ["run", "--base-url", server.base_url, "--campaign", "00001", *extra]


def test_a_dry_run_lists_and_sends_nothing_then_resume_removes_exactly_that(
    tmp_path: Path,
) -> None:
    records = _records(260)
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", records)
    with sandbox("--records", str(seed)) as server:
        dry = bulkremove(
            _args(server, *WHERE, "--journal", "d.sqlite", "--dry-run", "--report", "plan.json"),
            cwd=tmp_path,
        )
        assert dry.returncode == 0, dry.stderr
        after_dry = server.stats()
        assert after_dry["ids_requested"] == 0 and after_dry["gets"] == 4  # 2 passes of 2 pages
        plan = json.loads((tmp_path / "plan.json").read_text())["plan"]
        assert plan["ids"] == plan["selection"]["count"] == len(_matching(records))
        assert plan["selection"]["where"] == {
            "create_date_to": "2025-12-31",
            "system_status": ["NO_CALL", "ABANDONED_AFTER_N_TRIES"],
        }
        assert "selection: campaign 00001 where create_date_to=2025-12-31" in dry.stderr
        done = bulkremove(["run", "--resume", "d.sqlite", "--report", "-"], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert server.stats()["gets"] == after_dry["gets"], "the resume does not list again"
        remaining = server.remaining()
    assert remaining == {r["customer_id"] for r in records} - _matching(records)
    report = json.loads(done.stdout)
    assert report["totals"]["removed"] == len(_matching(records))
    assert report["selection"]["state"] == "agreed"
    con = sqlite3.connect(tmp_path / "d.sqlite")
    snapshot = {
        cid: json.loads(fields) for cid, fields in con.execute("SELECT key, fields FROM listed")
    }
    con.close()
    assert set(snapshot) == _matching(records)
    assert snapshot[1001]["system_status"] == "NO_CALL" and snapshot[1001]["status"] == "Status 1"


@pytest.mark.parametrize(
    ("extra", "config", "says"),
    [
        (["--where", "create_date_to=2025-02-30"], None, "is invalid: must be a real date"),
        (["--where", "system_status=NOCALL", "--input", "ids.txt"], None, "give no --input"),
        ([], 'where = { create_date_from = "2025-06-01", create_date_to = "2025-01-01" }',
         "where = {"),
    ],
)  # fmt: skip
def test_a_bad_selection_is_refused_before_any_request(
    tmp_path: Path, extra: list[str], config: str | None, says: str
) -> None:
    (tmp_path / "ids.txt").write_text("1\n")
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", _records(10))
    if config:
        (tmp_path / "purge.toml").write_text(config + "\n")
        extra = [*extra, "--config", "purge.toml"]
    with sandbox("--records", str(seed)) as server:
        done = bulkremove(_args(server, *extra), cwd=tmp_path)
        stats = server.stats()
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    if config:
        assert "(from purge.toml:where)" in done.stderr
    assert stats["gets"] == 0 and stats["requests"] == 0
    assert not list(tmp_path.glob("bulkremove-runs/*"))


def test_a_listing_killed_midway_resumes_at_its_last_page(tmp_path: Path) -> None:
    records = [{"customer_id": i, "system_status": "NO_CALL"} for i in range(1, 601)]
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", records)
    journal = tmp_path / "k.sqlite"
    with sandbox("--records", str(seed)) as server:
        process = start(
            _args(server, "--where", "system_status=NO_CALL", "--journal", str(journal),
                  "--rate", "8", "--rate-burst", "1"),
            cwd=tmp_path,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while _pages(journal) < 8 and time.monotonic() < deadline:  # into the second pass
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kept = _pages(journal)
        assert 8 <= kept < 14 and server.stats()["ids_requested"] == 0  # 7 pages a pass
        gets = server.stats()["gets"]
        done = bulkremove(["run", "--resume", str(journal), "--report", "-"], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert server.stats()["gets"] - gets == 14 - kept, "only the pages not yet read"
        assert server.remaining() == set()
    report = json.loads(done.stdout)
    assert report["totals"]["removed"] == 600
    assert report["selection"]["count"] == 600 and report["selection"]["requests"] == 14


def _pages(journal: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1)
        try:
            (count,) = con.execute("SELECT count(*) FROM listing_pages").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return 0
    return int(count)


def _churned_campaign() -> list[dict[str, Any]]:
    """1-100 match throughout; 101-200 (CALL) and 301-400 (created in 2026) never match;
    201-300 are NO_CALL or TO_CALL, the statuses the churn flips."""
    late = "2026-02-01 08:00:00"
    return (
        [{"customer_id": i, "system_status": "ABANDONED_AFTER_N_TRIES"} for i in range(1, 101)]
        + [{"customer_id": i, "system_status": "CALL"} for i in range(101, 201)]
        + [{"customer_id": i, "system_status": ("NO_CALL", "TO_CALL")[i % 2]}
           for i in range(201, 301)]
        + [{"customer_id": i, "system_status": "NO_CALL", "create_date": late}
           for i in range(301, 401)]
    )  # fmt: skip


def _churn(server: Any, requests: int | None) -> None:
    body = {"statuses": ["NO_CALL", "TO_CALL"], "per_request": 3, "requests": requests, "seed": 7}
    server.post("/_sandbox/campaigns/00001/churn", body)


def test_statuses_flipped_while_listing_never_remove_what_never_matched(tmp_path: Path) -> None:
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", _churned_campaign())
    with sandbox("--records", str(seed)) as server:
        _churn(server, 5)  # the dialer is busy while the first passes are read
        done = bulkremove(
            _args(server, *WHERE, "--journal", "j.sqlite", "--rate", "200", "--report", "-"),
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        flips = server.get("/_sandbox/campaigns/00001/churn")["flipped"]
        remaining = server.remaining()
    assert flips == 15
    report = json.loads(done.stdout)
    passes = report["selection"]["passes"]
    assert len(passes) >= 3 and not passes[0]["good"], passes
    assert remaining.isdisjoint(range(1, 101)), "every record that matched throughout is removed"
    assert remaining.issuperset(range(101, 201)) and remaining.issuperset(range(301, 401))
    removed_churned = set(range(201, 301)) - remaining
    assert report["totals"]["removed"] == 100 + len(removed_churned)


def test_a_selection_that_never_holds_still_is_refused_with_nothing_deleted(
    tmp_path: Path,
) -> None:
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", _churned_campaign())
    with sandbox("--records", str(seed)) as server:
        _churn(server, None)  # every listing GET
        done = bulkremove(
            _args(server, *WHERE, "--journal", "j.sqlite", "--rate", "200",
                  "--max-listing-passes", "3"),
            cwd=tmp_path,
        )  # fmt: skip
        stats = server.stats()
        remaining = server.remaining()
    assert done.returncode == 2, done.stderr
    assert "the selection did not hold still over 3 passes" in done.stderr
    assert "nothing was removed" in done.stderr
    assert stats["ids_requested"] == 0 and len(remaining) == 400
    assert not (tmp_path / "j.sqlite").exists()


def test_a_selection_that_matches_nothing_is_empty_input(tmp_path: Path) -> None:
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", _records(10))
    with sandbox("--records", str(seed)) as server:
        where = ["--where", "create_date_to=2000-01-01", "--journal", "e.sqlite"]
        empty = bulkremove(_args(server, *where), cwd=tmp_path)
        allowed = bulkremove(_args(server, *where, "--allow-empty"), cwd=tmp_path)
        assert server.stats()["ids_requested"] == 0
    assert empty.returncode == 6, empty.stderr
    assert "the selection matched no records: nothing sent" in empty.stderr
    assert allowed.returncode == 0, allowed.stderr
