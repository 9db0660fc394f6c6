"""Results people use: ``export`` as txt/csv/jsonl, ``runs``, and the Prometheus metrics file."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from e2e import bulkremove, env, run_args, run_cli, sandbox, start, wait_until_left, write_ids

FAST = ["--rate", "500"]
FAST_CALLS = [
    "--call-retry-timeout",
    "0.3",
    "--call-retry-initial",
    "0.1",
    "--call-retry-max",
    "0.1",
]


def parse_metrics(text: str, job: str = "bulkremove") -> dict[str, float]:
    """``name{labels}`` -> value, for the sample lines of a Prometheus text file; every line
    must carry the ``job`` label, which the keys leave out."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            labelled = f'{{job="{job}"'
            assert labelled in key, line
            key = key.replace(labelled + ",", "{").replace(labelled + "}", "")
            out[key] = float(value)
    return out


def test_export_csv_and_jsonl_give_one_row_per_record_with_its_outcome(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 31))
    with sandbox("--campaign", "00001=1-20") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [3], "duration_s": None})
        first = run_cli(server, ids, *FAST, *FAST_CALLS, cwd=tmp_path, journal="a.sqlite")
        assert first.returncode == 4, first.stderr
    with sandbox("--campaign", "00001=1-20", "--error-share", "1") as server:
        failing = run_cli(
            server, ids, *FAST, "--max-attempts", "1", cwd=tmp_path, journal="b.sqlite"
        )
        assert failing.returncode == 4, failing.stderr

    table = bulkremove(["export", "a.sqlite", "--format", "csv"], cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert (
        table.stdout.splitlines()[0]
        == "campaign_id,customer_id,state,record_id,attempts,answer_lost,last_error"
    )
    assert len(rows) == 30
    by_id = {int(row["customer_id"]): row for row in rows}
    assert by_id[1]["state"] == "removed" and by_id[1]["record_id"] != ""
    # each removed record's own record id (the sandbox's is customer id + 5,000,000)
    removed = {i: row["record_id"] for i, row in by_id.items() if row["state"] == "removed"}
    assert removed == {i: str(i + 5_000_000) for i in range(1, 21) if i != 3}
    assert by_id[1]["campaign_id"] == "00001" and by_id[1]["attempts"] == "1"
    assert by_id[3]["state"] == "in_call" and int(by_id[3]["attempts"]) >= 2
    assert by_id[25]["state"] == "not_found" and by_id[25]["record_id"] == ""
    assert {row["answer_lost"] for row in rows} == {"false"}

    only = bulkremove(["export", "a.sqlite", "--format", "csv", "--state", "in_call"], cwd=tmp_path)
    assert [r["customer_id"] for r in csv.DictReader(io.StringIO(only.stdout))] == ["3"]

    lines = bulkremove(
        ["export", "b.sqlite", "--format", "jsonl", "--state", "failed"], cwd=tmp_path
    )
    assert lines.returncode == 0, lines.stderr
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(records) == 30
    assert set(records[0]) == {
        "campaign_id",
        "customer_id",
        "state",
        "record_id",
        "attempts",
        "answer_lost",
        "last_error",
    }
    assert all(
        r["state"] == "failed" and "gave up after 1 tries" in r["last_error"] for r in records
    )
    # a 5xx may follow a removal carried out: every record is flagged
    assert all(r["answer_lost"] is True for r in records)


def test_export_txt_still_needs_a_state(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 6))
    with sandbox() as server:
        assert run_cli(server, ids, *FAST, cwd=tmp_path).returncode == 0
    refused = bulkremove(["export", "j.sqlite"], cwd=tmp_path)
    assert refused.returncode == 2
    assert "--state is required for --format txt" in refused.stderr
    plain = bulkremove(["export", "j.sqlite", "--state", "removed"], cwd=tmp_path)
    assert plain.stdout.split() == ["1", "2", "3", "4", "5"]


def test_runs_lists_journals_with_their_state(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 3001))
    runs_dir = tmp_path / "runs"
    with sandbox("--campaign", "00001=1-3000", "--latency", "0.02:0.05") as server:
        few = write_ids(tmp_path / "few.txt", [1, 2])
        done = run_cli(server, few, *FAST, cwd=tmp_path, journal="runs/a.sqlite")
        assert done.returncode == 0, done.stderr
        dry = run_cli(server, ids, *FAST, "--dry-run", cwd=tmp_path, journal="runs/b.sqlite")
        assert dry.returncode == 0, dry.stderr
        bad = run_cli(
            server, ids, *FAST,
            cwd=tmp_path, journal="runs/c.sqlite", environ=env(BULKREMOVE_PASSWORD="wrong"),
        )  # fmt: skip
        assert bad.returncode == 3, bad.stderr
        process = start(
            run_args(server, ids, "--max-ids-per-request", "10", "--rate", "50",
                     journal="runs/d.sqlite"),
            cwd=tmp_path,
        )  # fmt: skip
        wait_until_left(server, 2900)
        live = bulkremove(["runs", "runs", "--json"], cwd=tmp_path)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed = bulkremove(
            ["runs", "--json"], cwd=tmp_path, environ=env(BULKREMOVE_JOURNAL_DIR="runs")
        )
        shown = bulkremove(["runs", str(runs_dir)], cwd=tmp_path)

    running = {Path(r["journal"]).name: r for r in json.loads(live.stdout)}
    assert running["d.sqlite"]["state"] == "running"
    assert running["d.sqlite"]["pid"] == process.pid
    after = {Path(r["journal"]).name: r for r in json.loads(killed.stdout)}
    assert {name: r["state"] for name, r in after.items()} == {
        "a.sqlite": "finished", "b.sqlite": "dry_run", "c.sqlite": "aborted",
        "d.sqlite": "interrupted",
    }  # fmt: skip
    assert after["a.sqlite"]["counts"]["removed"] == 2
    assert after["a.sqlite"]["campaigns"] == ["00001"]
    assert after["c.sqlite"]["exit_code"] == 3
    assert after["b.sqlite"]["counts"]["pending"] == 3000
    assert after["a.sqlite"]["started"].endswith("Z")
    assert shown.returncode == 0
    header, *lines = shown.stdout.splitlines()
    assert header.split()[:4] == ["JOURNAL", "STARTED", "(UTC)", "CAMPAIGNS"]
    assert len(lines) == 4
    assert any("dry run" in line and "3000" in line for line in lines)
    assert any("interrupted" in line for line in lines)


def test_metrics_file_for_node_exporter(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 31))
    prom = tmp_path / "textfile" / "bulkremove.prom"
    prom.parent.mkdir()
    with sandbox("--campaign", "00001=1-20") as server:
        ok = run_cli(
            server, ids, *FAST, "--metrics-file", str(prom), cwd=tmp_path, journal="a.sqlite"
        )
        assert ok.returncode == 0, ok.stderr
        first = parse_metrics(prom.read_text())
        assert first['bulkremove_records{campaign="00001",state="removed"}'] == 20
        assert first['bulkremove_records{campaign="00001",state="not_found"}'] == 10
        assert first['bulkremove_requests{outcome="answered"}'] == server.stats()["requests"]
        assert first["bulkremove_exit_code"] == 0
        assert first["bulkremove_running"] == 0
        assert first["bulkremove_duration_seconds"] > 0
        success = first["bulkremove_last_success_timestamp_seconds"]
        assert abs(success - time.time()) < 60
        assert stat.S_IMODE(prom.stat().st_mode) == 0o644
        assert sorted(p.name for p in prom.parent.iterdir()) == ["bulkremove.prom"]

        # A failed run says so and keeps the time of the last success.
        failed = run_cli(
            server, ids, *FAST, "--metrics-file", str(prom),
            cwd=tmp_path, journal="b.sqlite", environ=env(BULKREMOVE_PASSWORD="wrong"),
        )  # fmt: skip
        assert failed.returncode == 3
        second = parse_metrics(prom.read_text())
        assert second["bulkremove_exit_code"] == 3
        assert second['bulkremove_requests{outcome="authentication"}'] >= 1
        assert second["bulkremove_last_success_timestamp_seconds"] == success

        # So does a refusal, which sends nothing.
        refused = run_cli(
            server, ids, *FAST, "--max-delete", "1",
            cwd=tmp_path, journal="c.sqlite",
            environ=env(BULKREMOVE_METRICS_FILE=str(prom), BULKREMOVE_JOB_NAME="nightly"),
        )  # fmt: skip
        assert refused.returncode == 2
        third = parse_metrics(prom.read_text(), job="nightly")
        assert third["bulkremove_exit_code"] == 2
        assert third["bulkremove_last_success_timestamp_seconds"] == success


def test_metrics_file_is_rewritten_during_the_run(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 2001))
    prom = tmp_path / "bulkremove.prom"
    with sandbox("--campaign", "00001=1-2000", "--latency", "0.05:0.05") as server:
        process = start(
            run_args(server, ids, "--max-ids-per-request", "10", "--rate", "40",
                     "--concurrency", "2", "--metrics-file", str(prom),
                     "--progress-interval", "0.2"),
            cwd=tmp_path,
        )  # fmt: skip
        seen: dict[str, float] = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if prom.exists():
                seen = parse_metrics(prom.read_text())
                if seen.get('bulkremove_records{campaign="00001",state="removed"}', 0) > 0:
                    break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert seen["bulkremove_running"] == 1
    assert "bulkremove_exit_code" not in seen
    assert 0 < seen['bulkremove_records{campaign="00001",state="removed"}'] < 2000
    assert parse_metrics(prom.read_text())["bulkremove_exit_code"] == 130


def test_a_csv_export_feeds_back_as_input_to_each_ids_own_campaign(tmp_path: Path) -> None:
    both = tmp_path / "ids.csv"
    both.write_text("customer_id,campaign_id\n1,00001\n2,00001\n1,00002\n3,00002\n")
    with sandbox("--campaign", "00001=1-10", "--campaign", "00002=1-10") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [2], "duration_s": None})
        server.post("/_sandbox/calls", {"campaign": "00002", "ids": [3], "duration_s": None})
        first = run_cli(
            server, both, *FAST, "--call-retry-timeout", "0.2",
            cwd=tmp_path, journal="a.sqlite", campaign=None,
        )  # fmt: skip
        assert first.returncode == 4, first.stderr
        retry = bulkremove(
            ["export", "a.sqlite", "--format", "csv", "--state", "in_call"], cwd=tmp_path
        )
        (tmp_path / "retry.csv").write_text(retry.stdout)
        for campaign, customer_id in (("00001", 2), ("00002", 3)):  # the calls end
            server.post(
                "/_sandbox/calls", {"campaign": campaign, "ids": [customer_id], "duration_s": 0}
            )
        again = run_cli(server, "retry.csv", "--report", "-", cwd=tmp_path, journal="b.sqlite")
        left_1, left_2 = server.remaining("00001"), server.remaining("00002")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["campaigns"] == {
        "00001": {"removed": 1, "not_found": 0, "in_call": 0, "failed": 0, "pending": 0},
        "00002": {"removed": 1, "not_found": 0, "in_call": 0, "failed": 0, "pending": 0},
    }
    assert left_1 == set(range(3, 11))
    assert left_2 == {2, *range(4, 11)}


def test_a_reader_that_goes_away_ends_the_commands_quietly(tmp_path: Path) -> None:
    # 40000 ids make a csv export far larger than a pipe's buffer: the writer meets the
    # closed pipe for certain. A dry run builds the journal without a server.
    write_ids(tmp_path / "ids.txt", range(1, 40_001))
    dry = run_cli("http://127.0.0.1:9/api", "ids.txt", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    for fmt in ("csv", "jsonl"):
        piped = subprocess.run(
            ["bash", "-c",
             f"set -o pipefail; {sys.executable} -m bulkremove export j.sqlite --format {fmt}"
             " | head -1"],
            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert piped.returncode in (0, 141), piped.stderr
        assert piped.stderr == ""
        assert piped.stdout.count("\n") == 1
    # A reader that closed before anything was written: every write meets the closed pipe.
    for args in (["report", "j.sqlite"], ["runs", ".", "--json"], ["runs", "."]):
        process = subprocess.Popen(
            [sys.executable, "-m", "bulkremove", *args],
            cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        code = process.wait(timeout=60)
        assert code in (0, 141), (args, code)
        assert process.stderr.read() == "", args
