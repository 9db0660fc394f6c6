"""Safety rails as a user meets them: dry run, --max-delete, and the confirmation off a terminal.

Every refusal is checked from outside: the exit code, the one-line reason, the sandbox's request
counter (nothing sent), and what is left on disk.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from e2e import bulkremove, env, env_asking, run_cli, sandbox, write_ids


def meta(journal: Path, key: str) -> object:
    with sqlite3.connect(journal) as con:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else json.loads(row[0])


def test_dry_run_sends_nothing_prints_the_plan_and_keeps_a_resumable_journal(
    tmp_path: Path,
) -> None:
    # 1000 ids of 4 digits and 3 duplicates; 100 ids per request -> 10 requests.
    ids = write_ids(tmp_path / "ids.txt", [*range(1000, 2000), 1000, 1001, 1002])
    with sandbox("--campaign", "00001=1-5000") as server:
        dry = run_cli(
            server, ids, "--dry-run", "--max-ids-per-request", "100", "--rate", "4",
            "--report", "plan.json",
            cwd=tmp_path,
            environ=env_asking(),  # a dry run asks nothing, terminal or not
        )  # fmt: skip
        assert server.stats()["requests"] == 0
        assert dry.returncode == 0, dry.stderr
        host = server.base_url.split("/")[2]
        assert f"plan: remove 1000 records on {host}" in dry.stderr
        assert "campaign 00001: 1000" in dry.stderr
        assert "3 duplicates" in dry.stderr
        assert "requests: 10, 100.0 ids each" in dry.stderr
        assert "at least 2.5 s at 4 requests/s" in dry.stderr
        assert "bulkremove run --resume j.sqlite" in dry.stderr
        plan = json.loads((tmp_path / "plan.json").read_text())["plan"]
        assert (plan["ids"], plan["requests"], plan["campaigns"]) == (1000, 10, {"00001": 1000})
        assert meta(tmp_path / "j.sqlite", "state") == "dry_run"

        listed = bulkremove(["runs", ".", "--json"], cwd=tmp_path)
        assert [r["state"] for r in json.loads(listed.stdout)] == ["dry_run"]

        # The kept journal is the plan: resuming it sends exactly those ids.
        done = bulkremove(["run", "--resume", "j.sqlite", "--rate", "500"], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert server.stats()["ids_requested"] == 1000
        assert server.remaining() == set(range(1, 5001)) - set(range(1000, 2000))


def test_dry_run_of_a_resume_changes_nothing(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox("--campaign", "00001=1-100") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [7, 8], "duration_s": None})
        first = run_cli(
            server, ids, "--call-retry-timeout", "0.3", "--call-retry-initial", "0.1",
            "--call-retry-max", "0.1", "--rate", "500",
            cwd=tmp_path,
        )  # fmt: skip
        assert first.returncode == 4, first.stderr
        before = server.stats()["requests"]
        dry = bulkremove(["run", "--resume", "j.sqlite", "--dry-run"], cwd=tmp_path)
        assert server.stats()["requests"] == before
    assert dry.returncode == 0, dry.stderr
    assert "plan: resume: send again 2 records" in dry.stderr
    assert "the journal is unchanged" in dry.stderr
    assert meta(tmp_path / "j.sqlite", "state") == "finished"
    assert meta(tmp_path / "j.sqlite", "exit_code") == 4


def test_max_delete_refuses_before_sending_and_says_by_how_much(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", [*range(1, 1501), 5, 6])
    with sandbox("--campaign", "00001=1-5000") as server:
        refused = run_cli(server, ids, "--max-delete", "1000", cwd=tmp_path)
        requests = server.stats()["requests"]
    assert refused.returncode == 2
    assert requests == 0
    # Counted after dedupe: 1500 ids, not 1502 lines.
    assert "would send 1500 ids, 500 more than max_delete = 1000 (from flag --max-delete)" in (
        refused.stderr
    )
    assert "nothing sent" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "j.sqlite").exists()


def test_max_delete_from_the_config_counts_every_campaign_and_a_limit_that_fits_runs(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "ids.csv"
    csv.write_text(
        "customer_id,campaign_id\n" + "".join(f"{i},0000{1 + i % 2}\n" for i in range(1, 41))
    )
    config = tmp_path / "purge.toml"
    config.write_text("max_delete = 39\n")
    with sandbox("--campaign", "00001=1-50", "--campaign", "00002=1-50") as server:
        refused = run_cli(
            server, csv, "--config", str(config), cwd=tmp_path, journal="a.sqlite", campaign=None
        )
        assert server.stats()["requests"] == 0
        assert refused.returncode == 2
        assert "40 ids, 1 more than max_delete = 39" in refused.stderr
        assert "purge.toml" in refused.stderr

        config.write_text("max_delete = 40\n")
        allowed = run_cli(
            server, csv, "--config", str(config), "--rate", "500",
            cwd=tmp_path, journal="b.sqlite", campaign=None,
        )  # fmt: skip
        assert allowed.returncode == 0, allowed.stderr
        assert server.stats()["ids_requested"] == 40


def test_max_delete_on_resume_counts_what_the_resume_would_send(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 201))
    with sandbox("--campaign", "00001=1-200") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [1, 2, 3], "duration_s": None})
        first = run_cli(
            server, ids, "--call-retry-timeout", "0.3", "--call-retry-initial", "0.1",
            "--call-retry-max", "0.1", "--rate", "500",
            cwd=tmp_path,
        )  # fmt: skip
        assert first.returncode == 4, first.stderr
        before = server.stats()["requests"]
        refused = bulkremove(["run", "--resume", "j.sqlite", "--max-delete", "2"], cwd=tmp_path)
        assert server.stats()["requests"] == before
    assert refused.returncode == 2
    assert "would send 3 ids, 1 more than max_delete = 2" in refused.stderr
    # A refused resume leaves its journal as it was: the records are still in_call.
    with sqlite3.connect(tmp_path / "j.sqlite") as con:
        (in_call,) = con.execute("SELECT count(*) FROM records WHERE state = 3").fetchone()
    assert in_call == 3


def test_without_a_terminal_and_without_yes_nothing_is_sent(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox() as server:
        refused = run_cli(server, ids, cwd=tmp_path, environ=env_asking())
        requests = server.stats()["requests"]
    assert refused.returncode == 2
    assert requests == 0
    assert "no terminal to ask on" in refused.stderr
    assert "--yes" in refused.stderr and "assume_yes" in refused.stderr
    assert "100 records" in refused.stderr
    assert not (tmp_path / "j.sqlite").exists()


def test_yes_flag_and_assume_yes_in_the_config_let_a_scheduled_run_go(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    config = tmp_path / "nightly.toml"
    config.write_text("assume_yes = true\nrate = 500.0\n")
    with sandbox() as server:
        flag = run_cli(
            server, ids, "--yes", "--rate", "500",
            cwd=tmp_path, journal="a.sqlite", environ=env_asking(),
        )  # fmt: skip
        assert flag.returncode == 0, flag.stderr
        assert server.stats()["ids_requested"] == 100
        configured = run_cli(
            server, ids, "--config", str(config),
            cwd=tmp_path, journal="b.sqlite", environ=env_asking(),
        )  # fmt: skip
        assert configured.returncode == 0, configured.stderr
        assert server.stats()["ids_requested"] == 200


def test_a_resume_asks_too_and_consent_is_not_inherited_from_the_journal(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox("--campaign", "00001=1-100") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [9], "duration_s": None})
        first = run_cli(
            server, ids, "--yes", "--rate", "500", "--call-retry-timeout", "0.2",
            "--call-retry-initial", "0.1", "--call-retry-max", "0.1",
            cwd=tmp_path,
            environ=env_asking(),
        )  # fmt: skip
        assert first.returncode == 4, first.stderr
        before = server.stats()["requests"]
        again = bulkremove(["run", "--resume", "j.sqlite"], cwd=tmp_path, environ=env_asking())
        assert server.stats()["requests"] == before
    assert again.returncode == 2
    assert "no terminal to ask on" in again.stderr


def test_an_empty_run_asks_nothing(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# nothing tonight\n")
    with sandbox() as server:
        done = run_cli(
            server, ids, "--allow-empty", cwd=tmp_path, environ=env(BULKREMOVE_ASSUME_YES="false")
        )
        assert server.stats()["requests"] == 0
    assert done.returncode == 0, done.stderr


def test_a_username_with_a_colon_is_refused_as_a_setting_and_leaves_no_journal(
    tmp_path: Path,
) -> None:
    # Basic auth cannot carry a ':' in the user name: refused before a journal exists.
    ids = write_ids(tmp_path / "ids.txt", range(1, 11))
    with sandbox("--campaign", "00001=1-10") as server:
        refused = run_cli(server, ids, cwd=tmp_path, environ=env(BULKREMOVE_USERNAME="team:ops"))
        assert server.stats()["requests"] == 0
    assert refused.returncode == 2, refused.stderr
    assert "username = 'team:ops' (from env BULKREMOVE_USERNAME) is invalid" in refused.stderr
    assert "':'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "j.sqlite").exists()
