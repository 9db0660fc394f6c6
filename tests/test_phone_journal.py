"""A journal of phone numbers: one row per number, every record id it removed kept apart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bulkremove.ids import parse_phone_number
from bulkremove.journal import Journal, OutcomeGroup
from bulkremove.report import build_report, summary_lines

SETTINGS = {"target": "phone_number", "base_url": "http://h/api"}
AT = 1_700_000_000.0


def key(number: str) -> int:
    found = parse_phone_number(number)
    assert found is not None
    return found


A, B, C = key("0048500100200"), key("600700800"), key("7")


def phone_journal(path: Path) -> Journal:
    journal = Journal.create(str(path), SETTINGS)
    journal.add_pending([("00007", [A, B, C])])
    return journal


def test_removed_records_are_counted_and_shown_per_number(tmp_path: Path) -> None:
    with phone_journal(tmp_path / "j.sqlite") as journal:
        changed = journal.record_groups(
            [
                OutcomeGroup("00007", [A], "removed", AT, records=[(A, 11), (A, 12), (A, 13)]),
                OutcomeGroup("00007", [B], "in_call", AT, in_call=True, records=[(B, 21)]),
                OutcomeGroup("00007", [C], "not_found", AT),
            ]
        )
        assert changed == {"removed": 1, "in_call": 1, "not_found": 1}
        assert journal.removed_records() == {"00007": 4}
        assert journal.record_ids_of("00007") == {A: [11, 12, 13], B: [21]}
        report = build_report(journal, "j.sqlite")
    assert report["target"] == "phone_number"
    assert report["totals"]["removed"] == 1
    assert report["records_removed"] == 4
    assert "phone numbers: 3  removed: 1" in summary_lines(report)[1]
    assert summary_lines(report)[1].endswith("records removed: 4")
    con = sqlite3.connect(tmp_path / "j.sqlite")
    rows = con.execute(
        "SELECT phone_number, state, record_ids FROM records_view ORDER BY phone_number"
    ).fetchall()
    assert rows == [
        ("0048500100200", "removed", "[11,12,13]"),
        ("600700800", "in_call", "[21]"),
        ("7", "not_found", "[]"),
    ]


def test_not_exist_after_removed_siblings_is_removed(tmp_path: Path) -> None:
    with phone_journal(tmp_path / "j.sqlite") as journal:
        journal.record_groups(
            [OutcomeGroup("00007", [B], "in_call", AT, in_call=True, records=[(B, 21)])]
        )
        # the retry: the record in a call is gone by now (the call ended, someone removed it)
        changed = journal.record_groups(
            [OutcomeGroup("00007", [B, C], "not_found", AT + 5, run=False)]
        )
        assert changed == {"not_found": 1, "removed": 1}
        states = {r.customer_id: r.state for r in journal.records_in_states(["removed"])}
        assert states == {B: "removed"}
        assert build_report(journal, "j")["records_removed"] == 1


def test_a_customer_journal_counts_each_removed_id_as_one_record(tmp_path: Path) -> None:
    with Journal.create(str(tmp_path / "c.sqlite"), {"base_url": "http://h/api"}) as journal:
        journal.add_pending([("00001", [1, 2, 3])])
        journal.record_groups([OutcomeGroup("00001", [1, 2], "removed", AT, [101, 102])])
        report = build_report(journal, "c")
    assert (report["target"], report["records_removed"]) == ("customer_id", 2)
    assert summary_lines(report)[1].startswith("records: 3  removed: 2")
    con = sqlite3.connect(tmp_path / "c.sqlite")
    assert con.execute(
        "SELECT customer_id, record_id FROM records_view WHERE record_id"
    ).fetchall() == [
        (1, 101),
        (2, 102),
    ]
