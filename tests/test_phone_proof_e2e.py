"""Phone-number campaigns by selection, and their proof afterwards: the CLI against the sandbox.

A number goes only when every record carrying it is selected; a phone journal, which has no
single-record GET, is verified by listing its campaign and comparing numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from e2e import bulkremove, run_cli, sandbox, write_records

from bulkremove.exits import EXIT_DISAGREE, EXIT_INCOMPLETE, EXIT_OK

pytestmark = pytest.mark.timeout(60)
CALLS = ["--call-retry-initial", "0.1", "--call-retry-max", "0.2", "--call-retry-timeout", "0.6"]


def record(record_id: int, number: str, status: str = "NO_CALL", call: Any = None) -> Any:
    return {"record_id": record_id, "phone_number": number, "system_status": status, "call": call}


def test_a_phone_selection_removes_numbers_wholly_selected_and_holds_back_the_rest(
    tmp_path: Path,
) -> None:
    records = [
        record(1, "0048500"),
        record(2, "0048500"),  # every record of 0048500 is selected: removed
        record(3, "48500"),
        record(4, "48500", "TO_CALL"),  # 48500 also carries a record outside the selection
        record(5, "600"),
        record(6, "700", "TO_CALL"),
    ]
    seed = write_records(tmp_path / "c.json", "00007", "phone_number", records)
    args = ["run", "--campaign", "00007", "--target", "phone_number"]
    with sandbox("--records", str(seed)) as server:
        where = ["--where", "system_status=NO_CALL", "--journal", "j.sqlite", "--report", "-"]
        done = bulkremove([*args, "--base-url", server.base_url, *where], cwd=tmp_path)
        assert done.returncode == EXIT_OK, done.stderr
        left = sorted((r["record_id"], r["phone_number"]) for r in server.records("00007"))
    assert left == [(3, "48500"), (4, "48500"), (6, "700")]
    assert (
        "held back: 1 numbers carried by records not selected: "
        "48500: record 4 (TO_CALL) carries it too and is not selected"
    ) in done.stderr
    report = json.loads(done.stdout)
    assert report["totals"]["removed"] == 2 and report["records_removed"] == 3
    assert report["selection"]["held_back"] == [
        {"number": "48500", "reason": "record 4 (TO_CALL) carries it too and is not selected"}
    ]


def test_a_phone_journal_is_verified_by_listing_and_names_a_number_put_back(
    tmp_path: Path,
) -> None:
    records = [
        record(1, "0048500"),
        record(2, "0048500"),
        record(3, "333", call="endless"),
        record(4, "444"),
    ]
    seed = write_records(tmp_path / "c.json", "00007", "phone_number", records)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("0048500\n333\n999\n")
    with sandbox("--records", str(seed)) as server:
        done = run_cli(
            server, numbers, "--target", "phone_number", *CALLS, cwd=tmp_path, campaign="00007"
        )
        assert done.returncode == EXIT_INCOMPLETE, done.stderr
        sample = bulkremove(["verify", "j.sqlite"], cwd=tmp_path)
        assert sample.returncode == EXIT_OK, sample.stderr
        server.put_back("00007", [{"phone_number": "0048500"}])
        found = bulkremove(["verify", "j.sqlite", "--all"], cwd=tmp_path)
    assert "verified: checked 3, agree 3, disagree 0" in sample.stderr
    assert "asked by: 00007 listing the campaign" in sample.stderr
    assert found.returncode == EXIT_DISAGREE, found.stderr
    assert "verified: checked 3, agree 2, disagree 1" in found.stderr
    assert "disagree: 00007 number 0048500: the journal says removed, the API has it" in (
        found.stderr
    )
    report = json.loads(bulkremove(["report", "j.sqlite"], cwd=tmp_path).stdout)
    assert [(d["key"], d["state"]) for d in report["verified"]["disagreements"]] == [
        ("0048500", "removed")
    ]
