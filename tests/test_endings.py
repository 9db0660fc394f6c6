"""How runs end when something goes wrong: output paths, journal failures, fatal answers, hints.

Each case is met from outside, as a user would: the exit code, the lines on stderr, the
sandbox's request counter and what the journal says afterwards.
"""

from __future__ import annotations

import json
import resource
import signal
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e import (
    PASSWORD,
    bulkremove,
    env,
    run_args,
    run_cli,
    sandbox,
    start,
    wait_until_left,
    write_ids,
)


def meta(journal: Path, key: str) -> object:
    with sqlite3.connect(journal) as con:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else json.loads(row[0])


@pytest.mark.parametrize("flag", ["--report", "--metrics-file"])
def test_an_output_path_in_a_missing_folder_is_refused_before_sending(
    tmp_path: Path, flag: str
) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox("--campaign", "00001=1-10") as server:
        refused = run_cli(server, ids, flag, "missing/out.json", cwd=tmp_path)
        assert server.stats()["requests"] == 0
        assert len(server.remaining()) == 10
    assert refused.returncode == 2, refused.stderr
    assert "missing" in refused.stderr and "does not exist" in refused.stderr
    assert not (tmp_path / "j.sqlite").exists()


def _limited(limit: int) -> Callable[[], None]:
    """For ``preexec_fn``: files the child writes stop growing at ``limit`` bytes (EFBIG)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_journal_that_fails_mid_run_exits_5_says_resume_and_records_it(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 3001))
    journal = tmp_path / "j.sqlite"
    with sandbox("--campaign", "00001=1-3000") as server:
        dry = run_cli(server, ids, "--dry-run", cwd=tmp_path)
        assert dry.returncode == 0, dry.stderr
        # The journal's writes fail for real once a file of it grows 48 KiB past its size now.
        limit = journal.stat().st_size + 48 * 1024
        args = ["run", "--resume", "j.sqlite", "--max-ids-per-request", "5", "--rate", "100",
                "--snapshot", "off"]  # fmt: skip
        failed = bulkremove(args, cwd=tmp_path, preexec_fn=_limited(limit))
        sent = server.stats()["requests"]
        recorded = (meta(journal, "state"), meta(journal, "exit_code"))
        resumed = bulkremove(["run", "--resume", "j.sqlite", "--rate", "500"], cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        assert server.remaining() == set()
    assert sent > 0
    assert failed.returncode == 5, failed.stderr
    lines = [line for line in failed.stderr.splitlines() if line.startswith("bulkremove: error:")]
    assert len(lines) == 1, failed.stderr
    assert "j.sqlite" in lines[0] and "bulkremove run --resume j.sqlite" in lines[0]
    assert "internal error" not in failed.stderr
    assert recorded == ("journal_failed", 5)


@pytest.mark.parametrize(
    ("campaign", "password", "cause", "hint"),
    [
        ("00001", "wrong", "HTTP 401", "check BULKREMOVE_USERNAME and BULKREMOVE_PASSWORD"),
        ("00009", PASSWORD, "HTTP 404", "check the campaign"),
    ],
)
def test_a_fatal_answer_is_one_error_line_with_its_cause_and_no_resume_advice(
    tmp_path: Path, campaign: str, password: str, cause: str, hint: str
) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox("--campaign", "00001=1-10") as server:
        aborted = run_cli(
            server, ids, cwd=tmp_path, campaign=campaign, environ=env(BULKREMOVE_PASSWORD=password)
        )
        host = server.base_url.split("/")[2]
    assert aborted.returncode == 3, aborted.stderr
    lines = [line for line in aborted.stderr.splitlines() if line.startswith("bulkremove: error:")]
    assert len(lines) == 1, aborted.stderr
    assert cause in lines[0] and f"from {host}" in lines[0] and hint in lines[0], lines[0]
    assert "--resume" not in aborted.stderr


def test_failed_records_end_with_their_reason_and_resume(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 6))
    with sandbox("--campaign", "00001=1-5", "--error-share", "1") as server:
        done = run_cli(
            server, ids, "--max-attempts", "2", "--retry-initial", "0.01", "--retry-max", "0.01",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 4, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("5 failed (") and "HTTP 50" in last, last
    assert "bulkremove run --resume j.sqlite" in last


def test_the_report_of_a_killed_run_shows_its_requests_and_time(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 1001))
    with sandbox("--campaign", "00001=1-1000") as server:
        args = run_args(server, ids, "--rate", "20", "--max-ids-per-request", "10")
        child = start(args, cwd=tmp_path)
        wait_until_left(server, 850)
        time.sleep(0.5)  # a group commit or two after those answers
        child.kill()
        child.wait()
        sent = server.stats()["requests"]
    shown = bulkremove(["report", "j.sqlite"], cwd=tmp_path)
    report = json.loads(shown.stdout)
    answered = report["totals"]["removed"] // 10
    assert answered >= 15
    assert answered <= report["requests"] <= sent
    assert report["duration_s"] >= 0.5


def test_an_empty_input_warns_and_exits_6_unless_allowed(tmp_path: Path) -> None:
    empty = tmp_path / "ids.txt"
    empty.write_text("# tonight's export\n\n")
    with sandbox("--campaign", "00001=1-10") as server:
        warned = run_cli(server, empty, cwd=tmp_path)
        allowed = run_cli(server, empty, "--allow-empty", cwd=tmp_path, journal="k.sqlite")
        assert server.stats()["requests"] == 0
    assert warned.returncode == 6, warned.stderr
    assert "bulkremove: warning: the input holds no ids" in warned.stderr
    assert "--allow-empty" in warned.stderr
    assert not (tmp_path / "j.sqlite").exists()
    assert allowed.returncode == 0, allowed.stderr


def test_a_server_that_is_down_ends_the_run_early_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ids = write_ids(tmp_path / "ids.txt", range(1, 2001))
    began = time.monotonic()
    down = run_cli(
        f"http://127.0.0.1:{port}/api", ids, "--max-ids-per-request", "10",
        "--retry-initial", "0.5", "--retry-max", "30", "--snapshot", "off", cwd=tmp_path,
    )  # fmt: skip
    took = time.monotonic() - began
    assert down.returncode == 3, down.stderr
    assert took < 30, "ended once the server looked down, not after every batch's tries"
    lines = [line for line in down.stderr.splitlines() if line.startswith("bulkremove: error:")]
    assert len(lines) == 1, down.stderr
    assert "Connection refused" in lines[0] and "the server looks down" in lines[0]
    assert "bulkremove run --resume j.sqlite" in lines[0]
    assert meta(tmp_path / "j.sqlite", "state") == "aborted"


def test_skip_invalid_lists_every_skipped_line_next_to_the_journal(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"{i}\nx{i}\n" for i in range(1, 16)))  # 15 ids, 15 invalid lines
    with sandbox("--campaign", "00001=1-20") as server:
        refused = run_cli(server, ids, cwd=tmp_path)
        assert not (tmp_path / "j.skipped.txt").exists()
        skipped = run_cli(server, ids, "--skip-invalid", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "15 invalid lines in all" in refused.stderr
    assert "--skip-invalid" in refused.stderr

    assert skipped.returncode == 0, skipped.stderr
    listing = (tmp_path / "j.skipped.txt").read_text().splitlines()
    assert len(listing) == 15
    assert listing[0] == f"{ids}:2: 'x1': customer id must be ASCII digits only"
    assert listing[-1].startswith(f"{ids}:30: 'x15': ")
    report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
    assert report["input"]["invalid"] == 15
    assert report["skipped_lines"] == "j.skipped.txt"
    assert "j.skipped.txt" in skipped.stderr
