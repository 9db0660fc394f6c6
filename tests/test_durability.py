"""``durability``: what a journal, a report and a metrics file survive.

``normal`` runs the journal with ``synchronous=NORMAL``; ``full`` with ``synchronous=FULL`` and
fsyncs the report and metrics files and their folder before and after the rename.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from e2e import PASSWORD, env, sandbox, write_ids

from bulkremove.cli import main
from bulkremove.prepared import prepare_run
from bulkremove.settings import Settings

SYNCHRONOUS = {"normal": 1, "full": 2}  # what PRAGMA synchronous reads back


def synchronous(prepared_journal: object) -> int:
    (level,) = prepared_journal._con.execute("PRAGMA synchronous").fetchone()  # type: ignore[attr-defined]
    return int(level)


@pytest.mark.parametrize("durability", ["normal", "full"])
def test_the_journal_connection_runs_at_the_chosen_level(tmp_path: Path, durability: str) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    settings = Settings(
        base_url="http://127.0.0.1:9/api", username="u", password="p", campaign="00001",
        durability=durability,
    )  # fmt: skip
    journal = str(tmp_path / "j.sqlite")
    created = prepare_run(settings, inputs=[str(ids)], journal_path=journal)
    try:
        assert synchronous(created.journal) == SYNCHRONOUS[durability]
    finally:
        created.journal.close()
    resumed = prepare_run(settings, resume=journal)
    try:
        assert synchronous(resumed.journal) == SYNCHRONOUS[durability]
    finally:
        resumed.journal.close()


def fsynced_paths(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Spy on ``os.fsync``: each call's path and whether it is a folder, then the real call."""
    calls: list[tuple[str, bool]] = []
    real = os.fsync

    def spy(fd: int) -> None:
        calls.append((os.readlink(f"/proc/self/fd/{fd}"), stat.S_ISDIR(os.fstat(fd).st_mode)))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return calls


@pytest.mark.parametrize("durability", ["normal", "full"])
def test_report_and_metrics_are_written_through_fsync_under_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durability: str
) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 6))
    out = tmp_path / "out"
    out.mkdir()
    for name, value in env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BULKREMOVE_PASSWORD", PASSWORD)
    calls = fsynced_paths(monkeypatch)
    with sandbox("--campaign", "00001=1-5") as server:
        code = main(
            ["run", "--base-url", server.base_url, "--campaign", "00001", "--input", str(ids),
             "--journal", str(tmp_path / "j.sqlite"), "--durability", durability,
             "--report", str(out / "r.json"), "--metrics-file", str(out / "m.prom")]
        )  # fmt: skip
    assert code == 0
    assert (out / "r.json").exists() and (out / "m.prom").exists()
    files = [Path(path).name for path, folder in calls if not folder]
    folders = [path for path, folder in calls if folder]
    if durability == "full":
        assert any(name.startswith(".r.json.") for name in files), calls
        assert any(name.startswith(".m.prom.") for name in files), calls
        assert str(out) in folders
        assert str(tmp_path) in folders, "the new journal's name is on disk too"
    else:
        assert calls == []
