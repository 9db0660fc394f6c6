"""``bulkremove verify`` and ``run --verify`` end to end, against the sandbox in its own process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from e2e import SandboxProcess, bulkremove, env, run_cli, sandbox, write_ids, write_records

FAST = ["--rate", "500", "--call-retry-initial", "0.2", "--call-retry-max", "0.5"]


def put_back(server: SandboxProcess, ids: list[int]) -> None:
    """Add customers to campaign 00001 again, behind the journal's back."""
    server.put_back("00001", [{"customer_id": i} for i in ids])


def findings(stderr: str) -> list[str]:
    """The lines for people, without log lines (which carry times)."""
    return [line for line in stderr.splitlines() if line.startswith(("disagree:", "verified:"))]


def removed_run(server: SandboxProcess, tmp_path: Path) -> None:
    """1-200 removed, 901-910 not found, from a campaign of 1-300."""
    ids = write_ids(tmp_path / "ids.txt", [*range(1, 201), *range(901, 911)])
    done = run_cli(server, ids, *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_verify_agrees_after_a_run_and_names_records_put_back(tmp_path: Path) -> None:
    with sandbox("--campaign", "00001=1-300") as server:
        removed_run(server, tmp_path)
        sample = bulkremove(["verify", "j.sqlite"], cwd=tmp_path)
        assert sample.returncode == 0, sample.stderr
        assert "verified: checked 210, agree 210, disagree 0" in sample.stderr
        whole = bulkremove(["verify", "j.sqlite", "--all"], cwd=tmp_path)
        assert whole.returncode == 0, whole.stderr
        assert "asked by: 00001 listing the campaign" in whole.stderr

        put_back(server, [17, 905])
        found = bulkremove(["verify", "j.sqlite", "--all"], cwd=tmp_path)
        report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
        refused = bulkremove(
            ["verify", "j.sqlite"], cwd=tmp_path, environ=env(BULKREMOVE_PASSWORD="wrong")
        )
    assert refused.returncode == 3, refused.stderr
    assert "bulkremove: error: aborted:" in refused.stderr
    assert found.returncode == 7, found.stderr
    assert "verified: checked 210, agree 208, disagree 2" in found.stderr
    assert "disagree: 00001 customer 17: the journal says removed, the API has it" in found.stderr
    assert "disagree: 00001 customer 905: the journal says not_found, the API has it" in (
        found.stderr
    )
    verified = report["verified"]
    assert (verified["checked"], verified["disagree"], verified["mode"]) == (210, 2, "all")
    assert [d["key"] for d in verified["disagreements"]] == [17, 905]
    with sqlite3.connect(tmp_path / "j.sqlite") as con:
        assert con.execute("SELECT key, state FROM disagreements ORDER BY key").fetchall() == [
            (17, "removed"), (905, "not_found")
        ]  # fmt: skip


def test_a_sample_prints_its_seed_and_the_seed_repeats_it(tmp_path: Path) -> None:
    with sandbox("--campaign", "00001=1-3000") as server:
        removed_run(server, tmp_path)
        put_back(server, list(range(1, 201, 2)))  # every other removed record is back
        first = bulkremove(["verify", "j.sqlite", "--sample", "12"], cwd=tmp_path)
        seed = first.stderr.split("--seed ")[1].split()[0]
        again = bulkremove(["verify", "j.sqlite", "--sample", "12", "--seed", seed], cwd=tmp_path)
        other = bulkremove(
            ["verify", "j.sqlite", "--sample", "12", "--seed", str(int(seed) + 1)], cwd=tmp_path
        )
        gets = server.stats()["gets"]
    assert first.returncode in (0, 7) and again.returncode == first.returncode
    assert f"a sample of 12 of 210 decided records, seed {seed}" in first.stderr
    assert findings(again.stderr) == findings(first.stderr)
    assert findings(other.stderr) != findings(first.stderr)
    assert "asked by: 00001 one GET per record" in first.stderr
    assert gets == 3 * (12 + 1)  # a GET per sampled record, and one page first


def test_run_verify_checks_the_run_it_just_made(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox("--campaign", "00001=1-300") as server:
        done = run_cli(server, ids, *FAST, "--verify", "--report", "r.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "verified: checked 100, agree 100, disagree 0" in done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verified"]["checked"] == 100
    assert report["exit_code"] == 0


def test_verify_refuses_a_journal_it_cannot_read_and_a_seed_with_all(tmp_path: Path) -> None:
    (tmp_path / "j.sqlite").write_text("not a journal")
    bad = bulkremove(["verify", "j.sqlite"], cwd=tmp_path)
    assert bad.returncode == 2
    assert "not a bulkremove journal" in bad.stderr
    both = bulkremove(["verify", "j.sqlite", "--all", "--seed", "3"], cwd=tmp_path)
    assert both.returncode == 2
    assert "--seed draws a sample" in both.stderr


def test_a_run_by_selection_is_verified_too(tmp_path: Path) -> None:
    statuses = ["TO_CALL", "NO_CALL"]
    records = [{"customer_id": i, "system_status": statuses[i % 2]} for i in range(1, 121)]
    seed = write_records(tmp_path / "c.json", "00001", "customer_id", records)
    with sandbox("--records", str(seed)) as server:
        args = [
            "run",
            "--base-url",
            server.base_url,
            "--campaign",
            "00001",
            "--journal",
            "j.sqlite",
        ]
        done = bulkremove(
            [*args, "--where", "system_status=NO_CALL", "--rate", "500", "--verify"], cwd=tmp_path
        )
        put_back(server, [1])
        found = bulkremove(["verify", "j.sqlite", "--all"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "verified: checked 60, agree 60, disagree 0" in done.stderr
    assert found.returncode == 7, found.stderr
    assert findings(found.stderr)[0].startswith(
        "disagree: 00001 customer 1: the journal says removed, the API has it (record "
    )
