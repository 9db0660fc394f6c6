"""``bulkremove runs --prune``: old journals of runs that are done with go, the rest stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from e2e import bulkremove, env, run_cli, sandbox, write_ids

from bulkremove.errors import UsageError
from bulkremove.journal import Journal
from bulkremove.prune import parse_age

DAY = 86400.0


def _age(path: Path, days: float) -> None:
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))


def _made(path: Path, state: str) -> None:
    with Journal.create(path, {}) as journal:
        journal.set_meta("state", state)


def test_prune_removes_old_finished_journals_only(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox() as server:
        for name, extra, environ in (
            ("old.sqlite", [], env()),
            ("new.sqlite", [], env()),
            ("dry.sqlite", ["--dry-run"], env()),
            ("aborted.sqlite", [], env(BULKREMOVE_PASSWORD="wrong")),
        ):
            journal = f"runs/{name}"
            done = run_cli(server, ids, "--rate", "500", *extra, cwd=tmp_path, journal=journal,
                           environ=environ)  # fmt: skip
            assert done.returncode in (0, 3), done.stderr
    (runs / "old.skipped.txt").write_text("ids.txt:3: 'x': not an id\n")
    _made(runs / "killed.sqlite", "running")  # no writer holds it: interrupted
    _made(runs / "failed.sqlite", "journal_failed")
    (runs / "killed.sqlite.lock").write_text("12345\n")  # a killed writer's lock file
    for name in ("old", "dry", "aborted", "killed", "failed"):
        _age(runs / f"{name}.sqlite", 40)
    _made(runs / "live.sqlite", "running")
    live = ["live.sqlite", "live.sqlite-shm", "live.sqlite-wal", "live.sqlite.lock"]
    with Journal.open(runs / "live.sqlite", write=True):  # a run writing it now
        _age(runs / "live.sqlite", 40)
        shown = bulkremove(["runs", "runs", "--prune", "--older-than", "30d", "--dry-run"],
                           cwd=tmp_path)  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert "would remove runs/old.sqlite" in shown.stdout
        assert (runs / "old.sqlite").exists()
        pruned = bulkremove(["runs", "runs", "--prune", "--older-than", "30d"], cwd=tmp_path)
        assert pruned.returncode == 0, pruned.stderr
        left = sorted(p.name for p in runs.iterdir())
        assert "removed runs/old.sqlite" in pruned.stdout
        for kept in ("dry", "aborted", "killed", "failed", "live"):
            assert f"kept runs/{kept}.sqlite" in pruned.stdout
        assert left == sorted(
            ["new.sqlite", "dry.sqlite", "aborted.sqlite", "killed.sqlite", "killed.sqlite.lock",
             "failed.sqlite", *live]
        )  # fmt: skip
        forced = bulkremove(["runs", "runs", "--prune", "--older-than", "30d", "--force"],
                            cwd=tmp_path)  # fmt: skip
        assert forced.returncode == 0, forced.stderr
        left = sorted(p.name for p in runs.iterdir())
    assert left == [*live, "new.sqlite"]
    assert "kept runs/live.sqlite: running" in forced.stdout


def test_prune_needs_an_age_and_the_prune_options_need_prune(tmp_path: Path) -> None:
    alone = bulkremove(["runs", ".", "--prune"], cwd=tmp_path)
    assert alone.returncode == 2
    assert "--older-than" in alone.stderr
    stray = bulkremove(["runs", ".", "--force"], cwd=tmp_path)
    assert stray.returncode == 2
    assert "--prune" in stray.stderr


def test_ages_read_as_units() -> None:
    assert parse_age("30d") == 30 * DAY
    assert parse_age("12h") == 12 * 3600
    assert parse_age("2w") == 14 * DAY
    assert parse_age("90m") == 90 * 60
    for wrong in ("30", "d", "-3d", "3y", ""):
        with pytest.raises(UsageError):
            parse_age(wrong)
