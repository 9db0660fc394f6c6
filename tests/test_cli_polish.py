"""The command line's manners: help with examples, one-line errors, --debug, internal errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from e2e import bulkremove, env, run_cli, run_process, sandbox, write_ids

import bulkremove as package

COMMANDS = ["run", "report", "export", "runs", "demo", "sandbox"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_shows_an_example(tmp_path: Path, command: str) -> None:
    shown = bulkremove([command, "--help"], cwd=tmp_path)
    assert shown.returncode == 0
    epilog = shown.stdout.split("example", 1)
    assert len(epilog) == 2, f"no example in {command} --help"
    assert f"bulkremove {command}" in epilog[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_descriptions_wrap_to_the_terminal_and_examples_stay_as_written(
    tmp_path: Path, command: str
) -> None:
    shown = bulkremove([command, "--help"], cwd=tmp_path, environ=env(COLUMNS="72"))
    description = shown.stdout.split("\n\n")[1]
    assert max(len(line) for line in description.splitlines()) <= 72, description
    assert f"\n  bulkremove {command}" in shown.stdout.split("\n\nexample", 1)[1]


def test_run_help_documents_the_safety_rails(tmp_path: Path) -> None:
    text = bulkremove(["run", "--help"], cwd=tmp_path).stdout
    for flag in ("--dry-run", "--yes", "--max-delete", "--progress-interval", "--metrics-file"):
        assert flag in text
    assert "marked dry_run" in text
    assert "after dedupe, over all campaigns" in text
    assert "1 internal error" in text


def test_version(tmp_path: Path) -> None:
    shown = bulkremove(["--version"], cwd=tmp_path)
    assert shown.stdout.strip() == f"bulkremove {package.__version__}"


def test_errors_are_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    plain = bulkremove(["report", "missing.sqlite"], cwd=tmp_path)
    assert plain.returncode == 2
    assert plain.stderr == "bulkremove: error: no journal at missing.sqlite\n"
    for args in (["--debug", "report", "missing.sqlite"], ["report", "missing.sqlite", "--debug"]):
        debug = bulkremove(args, cwd=tmp_path)
        assert debug.returncode == 2
        assert "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.endswith("bulkremove: error: no journal at missing.sqlite\n")


def test_debug_turns_on_debug_logs(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox() as server:
        done = bulkremove(
            ["--debug", "run", "--base-url", server.base_url, "--campaign", "00001", "--input",
             str(ids), "--journal", "j.sqlite", "--log-level", "warning"],
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "batch_done" in done.stderr


FAULTY = """
import sys
import bulkremove.cli as cli
import bulkremove.cli.journals as journals

def broken(journal, path):
    raise RuntimeError("the report builder broke")

journals.build_report = broken
sys.exit(cli.main(sys.argv[1:]))
"""


def test_an_unexpected_exception_is_one_line_and_exit_1(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 4))
    with sandbox() as server:
        made = run_cli(server, ids, cwd=tmp_path)
        assert made.returncode == 0, made.stderr

    def faulty(*args: str) -> subprocess.CompletedProcess[str]:
        return run_process([sys.executable, "-c", FAULTY, *args], cwd=tmp_path)

    broken = faulty("report", "j.sqlite")
    assert broken.returncode == 1
    assert broken.stderr == (
        "bulkremove: error: internal error: RuntimeError: the report builder broke; "
        "run with --debug for the traceback\n"
    )
    debug = faulty("--debug", "report", "j.sqlite")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert ", in broken\n" in debug.stderr  # the frame that raised
