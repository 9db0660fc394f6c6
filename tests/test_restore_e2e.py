"""``bulkremove restore`` end to end: a selection removed, then added back, against the sandbox."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from e2e import SandboxProcess, bulkremove, env_asking, sandbox, start, write_ids, write_records

FAST = ["--rate", "500"]
OLD = "2024-06-01 10:00:00"
STATUSES = {"1": "TO_CALL", "2": "NO_CALL", "5": "MY_RECORD", "6": "CALL_NO_SOONER_THAN"}


def mixed(count: int, first: int = 1) -> list[dict[str, Any]]:
    """Records of every status, half of each created in 2024 (what the selection takes)."""
    records = []
    for n in range(first, first + count):
        status_id = "1256"[n % 4]
        record: dict[str, Any] = {
            "customer_id": n,
            "status_id": status_id,
            "system_status": STATUSES[status_id],
            "order": n % 7,
            "create_date": OLD if n % 8 < 4 else "2025-06-01 10:00:00",
        }
        if status_id in ("5", "6"):
            record["next_call_date"] = f"2027-01-{1 + n % 28:02d} 09:{n % 60:02d}:00"
        if status_id == "5":
            record["agent_login"] = "jan"
        records.append(record)
    return records


def removed_by_selection(
    server: SandboxProcess, tmp_path: Path, *extra: str
) -> list[dict[str, Any]]:
    """Remove the records created in 2024 by a --where run; the records as they were."""
    before = {r["customer_id"]: r for r in server.records("00007")}
    args = ["run", "--base-url", server.base_url, "--campaign", "00007", *FAST, *extra]
    args += ["--where", "create_date_to=2024-12-31", "--journal", "j.sqlite"]
    done = bulkremove(args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    gone = set(before) - {r["customer_id"] for r in server.records("00007")}
    return [before[cid] for cid in sorted(gone)]


def restore(tmp_path: Path, *extra: str, **options: Any) -> Any:
    return bulkremove(["restore", "j.sqlite", *extra], cwd=tmp_path, **options)


def kept(record: dict[str, Any]) -> list[Any]:
    """What a restore must bring back as it was."""
    names = ("system_status", "status_id", "agent_login", "next_call_date", "order")
    return [record[name] for name in names]


def test_a_selection_comes_back_with_its_statuses_and_one_put_back_by_hand(
    tmp_path: Path,
) -> None:
    seed = write_records(tmp_path / "c.json", "00007", "customer_id", mixed(40))
    with sandbox("--records", str(seed), "--agents", "jan,ewa") as server:
        removed = removed_by_selection(server, tmp_path)
        assert len(removed) == 20
        assert {r["system_status"] for r in removed} == set(STATUSES.values())
        server.put_back("00007", [{"customer_id": removed[0]["customer_id"]}])
        asked = restore(tmp_path, environ=env_asking())
        dry = restore(tmp_path, "--dry-run")
        capped = restore(tmp_path, "--max-restore", "5")
        done = restore(tmp_path)
        again = restore(tmp_path)
        now = {r["customer_id"]: r for r in server.records("00007")}
        adds = server.stats()["adds"]
    exported = bulkremove(["export", "j.sqlite", "--restored", "--format", "jsonl"], cwd=tmp_path)
    report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
    assert report["restore"]["restored"] == 19 and report["restore"]["already_present"] == 1
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == 20 and rows[0]["customer_id"] == str(removed[0]["customer_id"])
    assert {row["state"] for row in rows[1:]} == {"restored"}
    assert asked.returncode == 2 and "not confirmed" in asked.stderr
    assert dry.returncode == 0 and "restore: add 20 records back" in dry.stderr, dry.stderr
    assert capped.returncode == 2 and "over --max-restore 5" in capped.stderr
    assert done.returncode == 0, done.stderr
    assert "restore: 19 restored, 1 already present, 0 failed, 0 pending" in done.stderr
    assert again.returncode == 0 and "restore: add 0 records back" in again.stderr
    assert adds == 19
    for record in removed[1:]:
        back = now[record["customer_id"]]
        assert kept(back) == kept(record)
        assert back["record_id"] != record["record_id"]
    with sqlite3.connect(tmp_path / "j.sqlite") as con:
        rows = con.execute("SELECT key, state, new_record_id FROM restores ORDER BY key").fetchall()
    assert rows[0][:2] == (removed[0]["customer_id"], "already_present")
    assert {k: rid for k, _, rid in rows} == {
        cid: now[cid]["record_id"] for cid in (r["customer_id"] for r in removed)
    }


def test_a_killed_restore_continues_adds_nothing_twice_and_halves_on_413(tmp_path: Path) -> None:
    records = mixed(120)
    records[1]["agent_login"] = "gone"  # a MY_RECORD whose agent no longer exists
    seed = write_records(tmp_path / "c.json", "00007", "customer_id", records)
    flags = ["--agents", "jan", "--max-body-bytes", "900", "--latency", "0.03:0.03"]
    with sandbox("--records", str(seed), *flags) as server:
        removed = removed_by_selection(server, tmp_path)
        running = start(["restore", "j.sqlite", "--concurrency", "1"], cwd=tmp_path)
        deadline = time.monotonic() + 20
        while server.stats()["adds"] < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        running.send_signal(signal.SIGKILL)
        running.wait()
        done = restore(tmp_path)
        stats = server.stats()
        back = {r["customer_id"] for r in server.records("00007")}
    assert len(removed) == 60
    assert done.returncode == 4, done.stderr
    assert "restore: 59 restored" in done.stderr or "already present" in done.stderr
    assert "1 failed, 0 pending" in done.stderr
    assert "failed: 00007 customer 2:" in done.stderr and "not a known agent" in done.stderr
    assert stats["adds"] == 59  # each added once, over both restores
    assert stats["by_status"].get("413")  # the 900-byte limit was found by halving
    assert {r["customer_id"] for r in removed} - back == {2}
    with sqlite3.connect(tmp_path / "j.sqlite") as con:
        states = dict(con.execute("SELECT state, count(*) FROM restores GROUP BY state"))
        lost = con.execute("SELECT count(*) FROM restores WHERE detail LIKE '%lost%'").fetchone()
    assert states.get("restored", 0) + states.get("already_present", 0) == 59
    assert states.get("already_present", 0) == lost[0]


def test_phone_records_come_back_one_add_each(tmp_path: Path) -> None:
    numbers = [
        {"phone_number": f"4850010{n:04d}", "identifier": f"A-{n}", "record_fields": {"x": n},
         "create_date": OLD if n % 8 < 4 else "2025-06-01 10:00:00", "order": n}
        for n in range(10)
    ]  # fmt: skip
    seed = write_records(tmp_path / "p.json", "00008", "phone_number", numbers)
    with sandbox("--records", str(seed)) as server:
        before = {r["phone_number"]: r for r in server.records("00008")}
        args = ["run", "--base-url", server.base_url, "--campaign", "00008", "--target"]
        args += ["phone_number", "--where", "create_date_to=2024-12-31", "--journal", "j.sqlite"]
        assert bulkremove([*args, *FAST], cwd=tmp_path).returncode == 0
        ids = write_ids(tmp_path / "ids.txt", [])
        ids.write_text("48500100001\n48500100003\n")
        narrow = restore(tmp_path, "--ids", str(ids))
        done = restore(tmp_path)
        after = {r["phone_number"]: r for r in server.records("00008")}
    assert narrow.returncode == 0 and "2 restored" in narrow.stderr, narrow.stderr
    assert done.returncode == 0 and "restore: 6 restored" in done.stderr, done.stderr
    for number, record in before.items():
        fields = ("identifier", "record_fields", "order", "status_id")
        assert [after[number][f] for f in fields] == [record[f] for f in fields]


def test_a_journal_without_a_snapshot_is_refused(tmp_path: Path) -> None:
    with sandbox("--campaign", "00001=1-50") as server:
        ids = write_ids(tmp_path / "ids.txt", range(1, 11))
        args = ["run", "--base-url", server.base_url, "--campaign", "00001", "--input", str(ids)]
        assert bulkremove([*args, "--journal", "j.sqlite"], cwd=tmp_path).returncode == 0
        refused = restore(tmp_path)
        bad = tmp_path / "bad.txt"
        bad.write_text("12\nx7\n")
        bad_ids = restore(tmp_path, "--ids", str(bad))
        requests = server.stats()["requests"]
    assert refused.returncode == 2 and "holds no snapshot" in refused.stderr, refused.stderr
    assert bad_ids.returncode == 2 and "bad.txt:2: customer id must be ASCII" in bad_ids.stderr
    assert requests == 1


def test_answers_lost_on_the_way_back_are_guarded_by_already_exists(tmp_path: Path) -> None:
    seed = write_records(tmp_path / "c.json", "00007", "customer_id", mixed(48))
    with sandbox("--records", str(seed), "--agents", "jan", "--seed", "3") as server:
        removed = removed_by_selection(server, tmp_path, "--retry-initial", "0.01")
        server.post("/_sandbox/faults", {"drop_share": 0.5, "max_body_bytes": 1500})
        done = restore(tmp_path, "--concurrency", "1")
        stats = server.stats()
    exported = bulkremove(["export", "j.sqlite", "--restored"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stats["adds"] == len(removed) == 24 and stats["dropped"] > 0
    lost = [line for line in exported.stdout.splitlines() if "already_present" in line]
    assert lost and all("whose answer was lost" in line for line in lost)
