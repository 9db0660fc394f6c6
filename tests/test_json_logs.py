"""``--log-format json``: every line on stderr is a JSON event, whatever the run's end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from e2e import bulkremove, run_args, run_cli, sandbox, write_ids
from test_cli_tty import finish, spawn


def events(stderr: str) -> list[dict[str, Any]]:
    """Each stderr line as JSON; fails on the first that is not an object with an event."""
    out = []
    for line in stderr.splitlines():
        event = json.loads(line)
        assert isinstance(event, dict) and "event" in event, line
        out.append(event)
    return out


def test_a_finished_run_and_a_dry_run_log_only_json(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 21))
    with sandbox("--campaign", "00001=1-10") as server:
        dry = run_cli(server, ids, "--dry-run", "--log-format", "json", cwd=tmp_path)
        done = run_cli(
            server, ids, "--yes", "--log-format", "json", cwd=tmp_path, journal="r.sqlite"
        )
    assert dry.returncode == 0, dry.stderr
    dry_events = events(dry.stderr)
    plan = next(e for e in dry_events if e["event"] == "plan")
    assert plan["ids"] == 20 and plan["journal"].endswith("j.sqlite")
    assert any(e["event"] == "dry_run" for e in dry_events)
    assert done.returncode == 0, done.stderr
    names = [e["event"] for e in events(done.stderr)]
    assert "summary" in names and "run_finished" in names


def test_a_refused_and_an_aborted_run_log_only_json(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    refused = run_cli(
        "http://127.0.0.1:9/api", tmp_path / "missing.txt", "--log-format", "json", cwd=tmp_path
    )
    assert refused.returncode == 2, refused.stderr
    error = events(refused.stderr)[-1]
    assert error["event"] == "error" and error["level"] == "error" and error["exit_code"] == 2
    assert "missing.txt" in error["message"]
    with sandbox("--password", "not-the-one") as server:
        aborted = run_cli(server, ids, "--yes", "--log-format", "json", cwd=tmp_path)
    assert aborted.returncode == 3, aborted.stderr
    last = events(aborted.stderr)[-1]
    assert last["event"] == "error" and last["exit_code"] == 3
    assert "401" in last["message"]


def test_on_a_terminal_json_logs_draw_no_display(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 41))
    with sandbox("--campaign", "00001=1-40") as server:
        args = run_args(server, ids, "--yes", "--log-format", "json", "--rate", "20")
        child = spawn(
            [*args, "--max-ids-per-request", "10", "--progress-interval", "0.1"], tmp_path
        )
        code, screen = finish(child)
    assert code == 0, "\n".join(screen)
    names = [e["event"] for e in events("\n".join(line for line in screen if line.strip()))]
    assert "progress" in names and "summary" in names


def test_the_demo_with_json_logs_logs_only_json(tmp_path: Path) -> None:
    done = bulkremove(["demo", "--records", "100", "--log-format", "json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    closing = events(done.stderr)[-1]
    assert closing["event"] == "demo_finished"
    assert closing["lines"][1].startswith("next: bulkremove sandbox --port 8080 & ")
