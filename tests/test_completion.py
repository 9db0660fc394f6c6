"""Shell completion and the man page, both generated from the parser, run as a user runs them."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bulkremove.cli import build_parser
from bulkremove.cli.manpage import _roff
from tests.e2e import bulkremove

COMMANDS = ("run", "report", "export", "runs", "demo", "sandbox", "completion", "man")


def run_options() -> list[str]:
    (commands,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    run = commands.choices["run"]
    return [
        option
        for action in run._actions
        if action.help is not argparse.SUPPRESS
        for option in action.option_strings
    ]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_naming_the_commands(shell: str, tmp_path: Path) -> None:
    done = bulkremove(["completion", shell], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for command in COMMANDS:
        assert command in done.stdout
    for flag in ("dry-run", "max-delete"):  # fish names long options without their dashes
        assert flag in done.stdout


def test_an_unknown_shell_is_a_usage_error(tmp_path: Path) -> None:
    done = bulkremove(["completion", "powershell"], cwd=tmp_path)
    assert done.returncode == 2
    assert "invalid choice: 'powershell'" in done.stderr
    assert done.stdout == ""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_and_run_flags(tmp_path: Path) -> None:
    script = tmp_path / "bulkremove.bash"
    script.write_text(bulkremove(["completion", "bash"], cwd=tmp_path).stdout)
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    # what bash does on TAB: set the words, call the completion function bound to bulkremove
    probe = (
        f"source {script}\n"
        'fn=$(complete -p bulkremove | sed -E "s/.*-F ([^ ]+) .*/\\1/")\n'
        'COMP_WORDS=(bulkremove ru); COMP_CWORD=1; $fn; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(bulkremove run --max-d); COMP_CWORD=2; $fn; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(bulkremove run --passw); COMP_CWORD=2; $fn; echo "${COMPREPLY[*]}"\n'
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    commands, flags, password = done.stdout.splitlines()
    assert "run" in commands.split()
    assert flags.split() == ["--max-delete"]
    assert password.split() == ["--password-file"]  # --password is hidden: it only refuses


def test_the_man_page_names_every_command_and_every_run_option(tmp_path: Path) -> None:
    done = bulkremove(["man"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = done.stdout.replace("\\-", "-")
    assert page.startswith(".TH BULKREMOVE 1")
    for command in COMMANDS:
        assert f"bulkremove {command}" in page
    for option in run_options():
        assert f"\\fB{option}\\fR" in page, option
    assert "--password " not in page  # hidden: it only refuses


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_renders_the_man_page_without_warnings(tmp_path: Path) -> None:
    page = tmp_path / "bulkremove.1"
    page.write_text(bulkremove(["man"], cwd=tmp_path).stdout)
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", str(page)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert done.stderr == ""
    assert "--max-delete" in done.stdout.replace("\u2010", "-")


def test_only_the_completion_command_loads_shtab(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from bulkremove.cli import main\n"
        "main(sys.argv[1:])\n"
        "print('shtab' in sys.modules)\n"
    )
    for argv, loaded in ((["runs", str(tmp_path)], "False"), (["completion", "zsh"], "True")):
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == loaded


def test_roff_text_is_taken_literally() -> None:
    assert _roff("a\\b --x\n.not a request\n'nor this") == (
        "a\\eb \\-\\-x\n\\&.not a request\n\\&'nor this"
    )


def test_help_and_man_page_show_a_single_percent_sign(tmp_path: Path) -> None:
    # argparse %-formats option help, not descriptions: a description keeps "%%" as written
    for argv in (["demo", "--help"], ["man"]):
        done = bulkremove(argv, cwd=tmp_path)
        assert "about 1% in calls" in " ".join(done.stdout.split())
        assert "%%" not in done.stdout
