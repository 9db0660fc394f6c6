"""``bulkremove run`` end to end: a subprocess against the sandbox in its own process."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from e2e import (
    PASSWORD,
    bulkremove,
    env,
    env_asking,
    run_args,
    run_cli,
    sandbox,
    start,
    wait_until_left,
    write_ids,
)

FAST = [
    "--rate",
    "500",
    "--call-retry-initial",
    "0.2",
    "--call-retry-max",
    "0.5",
]


# A resumed run keeps the journal's concurrency unless told; the rest need not go slowly.
RESUME_FAST = ["--rate", "500", "--concurrency", "8"]


def states(journal: Path) -> dict[int, str]:
    with sqlite3.connect(journal) as con:
        rows = con.execute("SELECT customer_id, state FROM records_view").fetchall()
    return {int(cid): str(name) for cid, name in rows}


def test_run_removes_everything_and_reports_the_truth(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", [*range(1, 4001), *range(9001, 9051), 17, 18])
    with sandbox("--campaign", "00001=1-5000") as server:
        done = run_cli(
            server, ids, "--report", "report.json", "--concurrency", "4", *FAST, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        remaining = server.remaining()
        stats = server.stats()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"] == {
        "removed": 4000, "not_found": 50, "in_call": 0, "failed": 0, "pending": 0
    }  # fmt: skip
    assert report["campaigns"]["00001"]["removed"] == 4000
    assert report["input"] == {"lines": 4052, "ids": 4050, "duplicates": 2, "invalid": 0}
    assert report["exit_code"] == 0
    assert report["requests"] == stats["requests"]
    assert remaining == set(range(4001, 5001))
    assert stats["peak_in_flight"] <= 4
    assert stats["max_target_length_seen"] <= 8000
    journal = states(tmp_path / "j.sqlite")
    assert all(journal[i] == "removed" for i in range(1, 4001))
    assert all(journal[i] == "not_found" for i in range(9001, 9051))
    assert "journal: j.sqlite" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr

    again = bulkremove(["report", "j.sqlite"], cwd=tmp_path)
    assert again.returncode == 0
    assert json.loads(again.stdout)["totals"] == report["totals"]


def test_calls_that_end_are_removed_and_endless_ones_stay_in_call(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 2001))
    with sandbox("--campaign", "00001=1-2000") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [5, 6, 7], "duration_s": 1.0})
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [8, 9], "duration_s": None})
        done = run_cli(server, ids, "--call-retry-timeout", "3", *FAST, cwd=tmp_path)
        remaining = server.remaining()
        requests = server.stats()["requests"]
    assert done.returncode == 4, done.stderr
    assert remaining == {8, 9}
    journal = states(tmp_path / "j.sqlite")
    assert journal[8] == journal[9] == "in_call"
    assert all(journal[i] == "removed" for i in range(1, 2001) if i not in (8, 9))
    # Retries are packed together: far fewer requests than one per retry of each id.
    assert requests < 40

    exported = bulkremove(["export", "j.sqlite", "--state", "in_call"], cwd=tmp_path)
    assert exported.returncode == 0
    assert exported.stdout.split() == ["8", "9"]


def test_throttling_and_server_errors_are_survived(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 1001))
    with sandbox(
        "--campaign", "00001=1-1000", "--rate-limit", "20", "--rate-burst", "3",
        "--error-share", "0.2", "--seed", "3",
    ) as server:  # fmt: skip
        done = run_cli(
            server, ids, "--max-ids-per-request", "50", "--max-attempts", "20",
            "--concurrency", "4", "--rate", "40",
            cwd=tmp_path,
            environ=env(BULKREMOVE_RETRY_INITIAL="0.05", BULKREMOVE_RETRY_MAX="0.5"),
        )  # fmt: skip
        stats = server.stats()
        remaining = server.remaining()
    assert done.returncode == 0, done.stderr
    assert remaining == set()
    assert stats["by_status"].get("429", 0) > 0, "the storm did happen"
    assert any(int(code) >= 500 for code in stats["by_status"])


def test_url_too_long_splits_and_lowers_the_budget(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 1501))
    with sandbox("--campaign", "00001=1-1500", "--max-target-length", "1500") as server:
        done = run_cli(server, ids, "--concurrency", "1", *FAST, cwd=tmp_path)
        stats = server.stats()
        remaining = server.remaining()
    assert done.returncode == 0, done.stderr
    assert remaining == set()
    # Requests of about 8000, 4000 and 2000 bytes are refused; 1000 holds for the rest.
    assert stats["by_status"]["414"] == 3
    assert stats["requests"] - 3 <= 50, "the budget was not cut further than needed"
    assert "url_too_long" in done.stderr


def test_bad_credentials_abort_with_exit_3(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 20001))
    with sandbox("--campaign", "00001=1-20000") as server:
        done = run_cli(
            server, ids, "--concurrency", "4", "--max-ids-per-request", "10",
            cwd=tmp_path,
            environ=env(BULKREMOVE_PASSWORD="wrong-secret", BULKREMOVE_RATE="1000"),
        )  # fmt: skip
        requests = server.stats()["requests"]
        remaining = len(server.remaining())
    assert done.returncode == 3, done.stderr
    assert "HTTP 401" in done.stderr
    assert 1 <= requests <= 4
    assert remaining == 20000
    assert "wrong-secret" not in done.stdout + done.stderr


def test_invalid_input_sends_nothing(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n2\nabc\n4\n-5\n")
    with sandbox() as server:
        done = run_cli(server, ids, cwd=tmp_path)
        requests = server.stats()["requests"]
    assert done.returncode == 2
    assert f"{ids.name}:3: 'abc'" in done.stderr
    assert f"{ids.name}:5:" in done.stderr
    assert requests == 0
    assert not (tmp_path / "j.sqlite").exists()


def test_skip_invalid_goes_on_and_counts(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n2\nabc\n4\n")
    with sandbox() as server:
        done = run_cli(server, ids, "--skip-invalid", "--report", "-", cwd=tmp_path)
        remaining = len(server.remaining())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["input"]["invalid"] == 1
    assert report["totals"]["removed"] == 3
    assert remaining == 100_000 - 3


def test_csv_with_campaigns_and_stdin(tmp_path: Path) -> None:
    csv = tmp_path / "ids.csv"
    csv.write_text("customer_id,campaign_id\n1,00001\n2,00002\n3,00002\n")
    with sandbox("--campaign", "00001=1-10", "--campaign", "00002=1-10") as server:
        done = run_cli(server, csv, "--input", "-", "--report", "-", cwd=tmp_path, stdin="5\n6\n")
        left_1, left_2 = server.remaining("00001"), server.remaining("00002")
    assert done.returncode == 0, done.stderr
    assert left_1 == set(range(1, 11)) - {1, 5, 6}
    assert left_2 == set(range(1, 11)) - {2, 3}
    assert json.loads(done.stdout)["campaigns"]["00002"]["removed"] == 2


def test_killed_run_resumes_and_agrees_with_the_server(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 6001))
    with sandbox("--campaign", "00001=1-6000", "--latency", "0.02:0.05") as server:
        process = start(
            run_args(server, ids, "--max-ids-per-request", "20", "--rate", "100",
                     "--concurrency", "4"),
            cwd=tmp_path,
        )  # fmt: skip
        wait_until_left(server, 5000)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        left_at_kill = len(server.remaining())
        assert 0 < left_at_kill <= 5000, "the kill came mid-run"

        done = bulkremove(
            ["run", "--resume", "j.sqlite", *RESUME_FAST, "--report", "-"], cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        remaining = server.remaining()
        requested = server.stats()["ids_requested"]
    assert remaining == set()
    journal = states(tmp_path / "j.sqlite")
    assert len(journal) == 6000
    assert set(journal.values()) <= {"removed", "not_found"}
    # Only ids whose answers were in flight or uncommitted at the kill were sent twice.
    assert requested - 6000 < 1000
    report = json.loads(done.stdout)
    assert report["totals"]["removed"] + report["totals"]["not_found"] == 6000

    nothing = bulkremove(["run", "--resume", "j.sqlite"], cwd=tmp_path)
    assert nothing.returncode == 0, nothing.stderr


def test_resume_with_nothing_left_sends_nothing(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox() as server:
        first = run_cli(server, ids, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        before = server.stats()["requests"]
        again = bulkremove(["run", "--resume", "j.sqlite"], cwd=tmp_path)
        after = server.stats()["requests"]
    assert again.returncode == 0, again.stderr
    assert after == before


def test_rate_and_concurrency_are_ceilings(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 801))
    with sandbox("--campaign", "00001=1-800", "--latency", "0.01:0.03") as server:
        done = run_cli(
            server, ids, "--max-ids-per-request", "10", "--rate", "25", "--concurrency", "3",
            "--snapshot", "off", cwd=tmp_path,
        )  # fmt: skip
        stats = server.stats()
    assert done.returncode == 0, done.stderr
    assert stats["requests"] == 80
    assert stats["peak_in_flight"] <= 3
    assert stats["max_requests_in_1s"] <= 25 + 2


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    no_input = bulkremove(["run", "--base-url", "http://127.0.0.1:9/api"], cwd=tmp_path)
    assert no_input.returncode == 2
    assert "--input" in no_input.stderr
    bad_flag = bulkremove(
        ["run", "--base-url", "http://127.0.0.1:9/api", "--input", "x", "--concurrency", "0"],
        cwd=tmp_path,
    )
    assert bad_flag.returncode == 2
    assert "concurrency = 0 (from flag --concurrency)" in bad_flag.stderr
    assert "Traceback" not in bad_flag.stderr
    no_password = bulkremove(
        ["run", "--base-url", "http://127.0.0.1:9/api", "--input", "x", "--campaign", "00001"],
        cwd=tmp_path,
        environ={k: v for k, v in env().items() if k != "BULKREMOVE_PASSWORD"},
    )
    assert no_password.returncode == 2
    assert "no password" in no_password.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_interrupts_with_130_and_resumes(tmp_path: Path, signum: int) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 3001))
    with sandbox("--campaign", "00001=1-3000", "--latency", "0.02:0.04") as server:
        process = start(
            run_args(server, ids, "--max-ids-per-request", "10", "--rate", "50",
                     "--concurrency", "2"),
            cwd=tmp_path,
        )  # fmt: skip
        wait_until_left(server, 2900)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert "run_stopping" in err
        journal = states(tmp_path / "j.sqlite")
        removed_by_server = 3000 - len(server.remaining())
        done = sum(1 for s in journal.values() if s == "removed")
        # The answers in flight were waited for: every removal the server made is journaled.
        assert 0 < done == removed_by_server
        again = bulkremove(["run", "--resume", "j.sqlite", *RESUME_FAST], cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert server.remaining() == set()


def test_no_output_carries_the_credentials(tmp_path: Path) -> None:
    import base64

    secret = "Sup3r-Secret-pw"
    header = base64.b64encode(f"api_user:{secret}".encode()).decode()
    ids = write_ids(tmp_path / "ids.txt", range(1, 301))
    with sandbox("--campaign", "00001=1-300", "--password", secret, "--error-share", "0.3") as srv:
        runs = [
            run_cli(
                srv, ids, "--log-level", "debug", "--log-format", fmt,
                "--max-ids-per-request", "20", "--rate", "500", "--report", "-",
                cwd=tmp_path,
                journal=f"j{fmt}.sqlite",
                environ=env(BULKREMOVE_PASSWORD=secret, BULKREMOVE_RETRY_INITIAL="0.01"),
            )
            for fmt in ("console", "json")
        ]  # fmt: skip
        failing = run_cli(
            srv, ids, "--log-level", "debug",
            cwd=tmp_path,
            journal="bad.sqlite",
            environ=env(BULKREMOVE_PASSWORD=secret + "x"),
        )  # fmt: skip
    assert [r.returncode for r in runs] == [0, 0]
    assert failing.returncode == 3
    assert "batch_done" in runs[0].stderr, "debug events were on"
    for done in [*runs, failing]:
        for text in (secret, header):
            assert text not in done.stdout
            assert text not in done.stderr
    for journal in tmp_path.glob("*.sqlite"):
        assert secret.encode() not in journal.read_bytes()


def test_demo_runs_the_whole_job(tmp_path: Path) -> None:
    done = bulkremove(["demo", "--records", "3000"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["totals"]["removed"] == 3000
    assert report["input"]["ids"] == 3000
    assert (tmp_path / "bulkremove-demo" / "ids.txt").exists()
    happened, then = done.stderr.splitlines()[-2:]
    assert happened.startswith("demo: removed 3,000 of 3,000 records from a sandbox on this ")
    assert f"journal {report['journal']}" in happened
    rehearsal = (
        "bulkremove run --base-url http://127.0.0.1:8080/api --campaign 00001 "
        "--input bulkremove-demo/ids.txt --dry-run"
    )
    assert then == f"next: bulkremove sandbox --port 8080 & {rehearsal}"
    # the rehearsal's run works as printed, in a plain shell: a dry run needs no sandbox yet,
    # no credentials and no --yes
    plain = {k: v for k, v in env_asking().items() if not k.startswith("BULKREMOVE_")}
    tried = bulkremove(rehearsal.split()[1:], cwd=tmp_path, environ=plain)
    assert tried.returncode == 0, tried.stderr


def test_second_signal_stops_at_once_and_the_journal_stays_resumable(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 2001))
    with sandbox("--campaign", "00001=1-2000", "--latency", "9:9") as server:
        process = start(
            run_args(server, ids, "--max-ids-per-request", "100", "--concurrency", "2"),
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 20
        while server.stats()["in_flight"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # until requests are in flight, their answers 9 s away
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert time.monotonic() - began < 5, "did not wait for the answers in flight"
        assert "run_stopped_now" in err
        server.post("/_sandbox/faults", {"latency_min_s": 0, "latency_max_s": 0})
        again = bulkremove(["run", "--resume", "j.sqlite", "--rate", "500"], cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert server.remaining() == set()
    assert set(states(tmp_path / "j.sqlite").values()) <= {"removed", "not_found"}
