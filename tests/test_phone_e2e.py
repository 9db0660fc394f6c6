"""Phone-number campaigns end to end: the CLI against the sandbox over loopback."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from e2e import bulkremove, run_cli, sandbox, write_records

from bulkremove.exits import EXIT_INCOMPLETE, EXIT_OK

CALLS = (
    "--call-retry-initial",
    "0.1",
    "--call-retry-max",
    "0.2",
    "--call-retry-timeout",
    "2.5",
)


def record(record_id: int, number: str, call: Any = None, extra: list[str] | None = None) -> Any:
    return {
        "record_id": record_id,
        "phone_number": number,
        "additional_numbers": extra or [],
        "call": call,
    }


def one_record_each(tmp_path: Path, numbers: list[str]) -> tuple[Path, Path]:
    """A phone campaign 00007 of one record per number, and an input listing the numbers."""
    records = [record(i + 1, number) for i, number in enumerate(numbers)]
    seed = write_records(tmp_path / "c.json", "00007", "phone_number", records)
    listed = tmp_path / "numbers.txt"
    listed.write_text("".join(f"{n}\n" for n in numbers))
    return seed, listed


def remaining(server: Any, campaign: str) -> list[int]:
    """The record ids the server still holds."""
    return sorted(server.get(f"/_sandbox/campaigns/{campaign}/records")["ids"])


def test_numbers_matching_0_1_or_3_records_some_in_calls(tmp_path: Path) -> None:
    records = [
        record(1, "0048500100200"),
        record(2, "0048500100200"),
        record(3, "0048500100200"),
        record(4, "48500100200"),  # not 0048500100200: leading zeros count
        record(5, "600700800"),
        record(6, "222", call=1),  # a call that ends: cleared by a retry
        record(7, "222"),
        record(8, "333", call="endless"),
        record(9, "333"),  # removed at once, though its sibling stays in a call
        record(10, "444", call="endless"),
    ]
    seed = write_records(tmp_path / "c.json", "00007", "phone_number", records)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("0048500100200\n600700800\n111\n222\n333\n444\n0048500100200\n")
    with sandbox("--records", str(seed)) as server:
        done = run_cli(
            server, numbers, "--target", "phone_number", *CALLS, cwd=tmp_path, campaign="00007"
        )
        assert done.returncode == EXIT_INCOMPLETE, done.stderr
        assert remaining(server, "00007") == [4, 8, 10], "exactly the records in endless calls"
        left = {r["record_id"]: r["in_call"] for r in server.records("00007")}
        assert left == {4: False, 8: True, 10: True}  # 4 is 48500100200, never asked
        other = ["run", "--resume", "j.sqlite", "--base-url", server.base_url]
        refused = bulkremove([*other, "--target", "customer_id"], cwd=tmp_path)
        assert refused.returncode == 2
        assert "a resume cannot change the target" in refused.stderr
        # the journal's target is kept: the CRM endpoint would answer 404 (exit 3)
        again = bulkremove([*other, *CALLS[:4], "--call-retry-timeout", "0.3"], cwd=tmp_path)
        assert again.returncode == EXIT_INCOMPLETE, again.stderr
        assert remaining(server, "00007") == [4, 8, 10]
    assert "phone numbers: 6  removed: 3  not found: 1  in call: 2" in done.stderr
    assert "records removed: 7" in done.stderr
    assert "input: 7 lines, 6 phone numbers, 1 duplicates" in done.stderr
    in_call = bulkremove(["export", "j.sqlite", "--state", "in_call"], cwd=tmp_path)
    assert in_call.stdout == "333\n444\n"
    report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
    assert report["target"] == "phone_number"
    assert report["totals"]["removed"] == 3
    assert report["records_removed"] == 7
    assert report["input"]["duplicates"] == 1
    exported = bulkremove(["export", "j.sqlite", "--format", "csv"], cwd=tmp_path).stdout
    rows = {r["phone_number"]: r for r in csv.DictReader(io.StringIO(exported))}
    assert rows["0048500100200"]["record_ids"] == "1 2 3"
    assert rows["333"]["state"] == "in_call" and rows["333"]["record_ids"] == "9"
    assert rows["111"]["state"] == "not_found" and rows["111"]["record_ids"] == ""
    jsonl = bulkremove(["export", "j.sqlite", "--format", "jsonl"], cwd=tmp_path).stdout
    assert {"phone_number": "222", "record_ids": [6, 7]}.items() <= next(
        row for row in map(json.loads, jsonl.splitlines()) if row["phone_number"] == "222"
    ).items()


def test_additional_numbers_and_the_bytes_sent(tmp_path: Path) -> None:
    records = [record(1, "500", extra=["0700"]), record(2, "0700"), record(3, "700")]
    seed = write_records(tmp_path / "c.json", "00007", "phone_number", records)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("phone_number,campaign_id\n0700,00007\n")
    with sandbox("--records", str(seed)) as server:
        done = run_cli(
            server,
            numbers,
            "--target",
            "phone_number",
            "--search-in-additional-numbers",
            cwd=tmp_path,
            campaign=None,
        )
        assert done.returncode == EXIT_OK, done.stderr
        assert remaining(server, "00007") == [3]
        sent = "/api/batch/outbounds/00007/records?search_in_additional_numbers=true"
        sent += "&phone_number%5B%5D=0700"
        assert server.stats()["max_target_length_seen"] == len(sent)
    report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
    assert report["records_removed"] == 2


def test_a_plus_is_refused_before_any_request(tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("600700800\n+48600700800\n")
    done = run_cli("http://127.0.0.1:9/api", numbers, "--target", "phone_number", cwd=tmp_path)
    assert done.returncode == 2
    assert f"{numbers}:2: '+48600700800': phone numbers are digits only" in done.stderr
    assert not (tmp_path / "j.sqlite").exists()


def test_414_halving_and_max_delete_count_numbers(tmp_path: Path) -> None:
    seed, listed = one_record_each(tmp_path, [f"{n:012d}" for n in range(40)])
    args = ("--target", "phone_number")
    with sandbox("--records", str(seed), "--max-target-length", "400") as server:
        refused = run_cli(
            server, listed, *args, "--max-delete", "39", cwd=tmp_path, campaign="00007"
        )
        assert refused.returncode == 2
        assert "would send 40 phone numbers, 1 more than max_delete = 39" in refused.stderr
        done = run_cli(server, listed, *args, cwd=tmp_path, campaign="00007")
        assert done.returncode == EXIT_OK, done.stderr
        assert remaining(server, "00007") == []
    assert "url_too_long" in done.stderr


def test_a_dry_run_plans_numbers(tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("600700800\n007\n7\n007\n")
    done = run_cli(
        "http://127.0.0.1:9/api", numbers, "--target", "phone_number", "--dry-run", cwd=tmp_path
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert "plan: remove 3 phone numbers on 127.0.0.1:9" in done.stderr + done.stdout


def test_numbers_removed_behind_lost_answers_are_flagged(tmp_path: Path) -> None:
    seed, listed = one_record_each(tmp_path, [f"0{n}" for n in range(30)])
    faults = ("--drop-share", "0.5", "--seed", "3")
    with sandbox("--records", str(seed), *faults) as server:
        done = run_cli(
            server,
            listed,
            "--target",
            "phone_number",
            "--max-ids-per-request",
            "5",
            "--retry-initial",
            "0.05",
            "--max-attempts",
            "20",
            cwd=tmp_path,
            campaign="00007",
        )
        assert done.returncode == EXIT_OK, done.stderr
        assert remaining(server, "00007") == []
    report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
    totals = report["totals"]
    assert totals["removed"] + totals["not_found"] == 30
    assert totals["not_found"] > 0, "some answers were dropped after the removal"
    assert report["not_found_after_lost_answer"] == totals["not_found"]
    assert report["records_removed"] == totals["removed"]
