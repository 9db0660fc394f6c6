"""The files beside a journal: a finished run leaves only its journal, and reading it adds none."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from e2e import (
    bulkremove,
    env,
    run_args,
    run_cli,
    sandbox,
    start,
    wait_until_left,
    write_ids,
)


def test_a_finished_run_and_the_commands_that_read_it_leave_only_the_journal(
    tmp_path: Path,
) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 21))
    with sandbox() as server:
        done = run_cli(server, ids, "--report", "out.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = ["ids.txt", "j.sqlite", "out.json"]
    assert sorted(os.listdir(tmp_path)) == expected
    for args in (
        ["report", "j.sqlite"],
        ["export", "j.sqlite", "--format", "csv"],
        ["runs", "."],
        ["runs", ".", "--json"],
    ):
        read = bulkremove(args, cwd=tmp_path)
        assert read.returncode == 0, (args, read.stderr)
        assert sorted(os.listdir(tmp_path)) == expected, args


def test_every_ending_that_closes_the_journal_leaves_it_alone(tmp_path: Path) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 11))
    (tmp_path / "bad.txt").write_text("1\nx\n2\n")
    with sandbox() as server:
        for journal, extra, environ in (
            ("dry.sqlite", ["--dry-run"], env()),
            ("aborted.sqlite", [], env(BULKREMOVE_PASSWORD="wrong")),
            ("refused.sqlite", ["--max-delete", "1"], env()),
            ("skip.sqlite", ["--skip-invalid"], env()),
        ):
            given = tmp_path / ("bad.txt" if journal == "skip.sqlite" else "ids.txt")
            ended = run_cli(server, given, *extra, cwd=tmp_path, journal=journal, environ=environ)
            assert ended.returncode in (0, 2, 3), ended.stderr
    assert sorted(os.listdir(tmp_path)) == [
        "aborted.sqlite", "bad.txt", "dry.sqlite", "ids.txt", "skip.skipped.txt", "skip.sqlite",
    ]  # fmt: skip


def test_a_killed_run_keeps_its_wal_and_reading_it_sees_the_outcomes(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 3001))
    with sandbox("--campaign", "00001=1-3000", "--latency", "0.02:0.05") as server:
        args = run_args(server, ids, "--max-ids-per-request", "10", "--rate", "50")
        process = start(args, cwd=tmp_path)
        wait_until_left(server, 2900)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        gone = 3000 - len(server.remaining())
    assert (tmp_path / "j.sqlite-wal").exists()
    report = bulkremove(["report", "j.sqlite"], cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert '"removed"' in report.stdout
    assert gone >= 100


def test_a_lock_removed_by_its_holder_is_not_taken_by_a_late_opener(tmp_path: Path) -> None:
    from bulkremove.journal.lock import lock, lock_path, unlock, writer_pid

    journal = tmp_path / "j.sqlite"
    first = lock(journal)
    late = os.open(lock_path(journal), os.O_RDWR)  # opened before the holder's clean close
    unlock(first, journal)
    assert not lock_path(journal).exists()
    assert writer_pid(journal) is None
    second = lock(journal)  # a new file, which the late opener's descriptor is not
    assert os.fstat(late).st_ino != os.fstat(second).st_ino
    assert writer_pid(journal) == os.getpid()
    os.close(late)
    unlock(second, journal)
