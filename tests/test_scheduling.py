"""The nightly script of docs/scheduling.md, run as written against a folder of journals."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from e2e import bulkremove, run_process, sandbox, write_ids

DOC = Path(__file__).parent.parent / "docs" / "scheduling.md"
FAST_CALLS = [
    "--call-retry-timeout",
    "0.2",
    "--call-retry-initial",
    "0.1",
    "--call-retry-max",
    "0.1",
]


def nightly_script(folder: Path, tool: Path, config: Path, export: Path) -> str:
    """The doc's script, its paths pointed at ``folder`` (each must be there to be replaced)."""
    block = re.search(r"\n\n((?:    .*\n|\n)*?    exec .*\n(?:        .*\n)*)", DOC.read_text())
    assert block, "no nightly script in docs/scheduling.md"
    script = "\n".join(line[4:] for line in block.group(1).splitlines())
    for written, here in (
        ("/var/lib/bulkremove", folder),
        ("/opt/bulkremove/bin/bulkremove", tool),
        ("/etc/bulkremove/purge.toml", config),
        ("/srv/exports/purge-ids.csv", export),
    ):
        assert written in script, written
        script = script.replace(written, str(here))
    return script


@pytest.mark.skipif(shutil.which("jq") is None, reason="the nightly script needs jq")
def test_the_nightly_script_retries_what_the_last_real_run_left_not_a_dry_run(
    tmp_path: Path,
) -> None:
    tool = tmp_path / "bulkremove"
    tool.write_text(f'#!/bin/sh\nexec {sys.executable} -m bulkremove "$@"\n')
    tool.chmod(0o755)
    export = tmp_path / "export.csv"
    export.write_text("customer_id,campaign_id\n20,00001\n21,00001\n")
    with sandbox("--campaign", "00001=1-100") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [4, 5], "duration_s": None})
        config = tmp_path / "purge.toml"
        config.write_text(
            f'base_url = "{server.base_url}"\ncampaign = "00001"\njournal_dir = "runs"\n'
            "assume_yes = true\ncall_retry_timeout = 0.2\ncall_retry_initial = 0.1\n"
            "call_retry_max = 0.1\n"
        )
        night = [
            "run",
            "--base-url",
            server.base_url,
            "--campaign",
            "00001",
            "--journal-dir",
            "runs",
        ]
        ids = write_ids(tmp_path / "ids.txt", range(1, 11))
        last_night = bulkremove([*night, "--input", str(ids), *FAST_CALLS], cwd=tmp_path)
        assert last_night.returncode == 4, last_night.stderr  # 4 and 5 left in a call
        ids = write_ids(tmp_path / "later.txt", [50])
        dry = bulkremove([*night, "--input", str(ids), "--dry-run"], cwd=tmp_path)
        assert dry.returncode == 0, dry.stderr
        script = nightly_script(tmp_path, tool, config, export)
        tonight = run_process(["sh", "-c", script], cwd=tmp_path)
        assert tonight.returncode == 4, tonight.stderr  # 4 and 5 are still in their call
    runs = json.loads(bulkremove(["runs", "runs", "--json"], cwd=tmp_path).stdout)
    assert [run["state"] for run in runs][:2] == ["finished", "dry_run"]
    assert sum(runs[-1]["counts"].values()) == 4, "tonight's export and last night's 4 and 5"
