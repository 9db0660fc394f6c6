"""How runs end when something goes wrong: output paths, journal failures, fatal answers, hints.

Each case is met from outside, as a user would: the exit code, the lines on stderr, the
sandbox's request counter and what the journal says afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from e2e import run_cli, sandbox, write_ids


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
