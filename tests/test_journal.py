"""The journal, on real SQLite files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from by_record import JournalUpdate, count_pending, record, record_outcomes

from bulkremove.errors import JournalError
from bulkremove.journal import STATES, Journal, JournalRecord, OutcomeGroup
from bulkremove.journal import intake as intake_module
from bulkremove.journal.schema import APPLICATION_ID, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"campaign": "00001", "max_url_length": 8000, "base_url": "https://x.example/api"}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "run.journal"


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with Journal.create(path, SETTINGS) as j:
        yield j


def test_create_then_open_round_trip(path: Path) -> None:
    with Journal.create(path, SETTINGS) as j:
        assert j.add_pending([("00001", [3, 1, 2]), ("AbC12", [9])]) == 4
    assert path.parent.is_dir()
    with Journal.open(path) as j:
        assert not j.writable
        assert j.get_meta("settings") == SETTINGS
        assert j.get_meta("schema_version") == SCHEMA_VERSION
        assert j.get_meta("tool") == "bulkremove"
        assert isinstance(j.get_meta("created_at"), float)
        assert j.get_meta("absent", "fallback") == "fallback"
        assert j.campaigns() == ["00001", "AbC12"]
        assert count_pending(j) == 4
        assert list(j.ids_in_states(["pending"])) == [
            ("00001", 1),
            ("00001", 2),
            ("00001", 3),
            ("AbC12", 9),
        ]


def test_create_refuses_password_in_settings(path: Path) -> None:
    with pytest.raises(ValueError, match="password"):
        Journal.create(path, {"password": "secret"})
    assert not path.exists()


def test_create_refuses_an_existing_journal(path: Path) -> None:
    Journal.create(path, SETTINGS).close()
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(path, SETTINGS)


def test_create_accepts_an_empty_file(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.touch()
    with Journal.create(path, SETTINGS) as j:
        assert j.get_meta("settings") == SETTINGS


def test_open_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal at"):
        Journal.open(tmp_path / "nope.journal")


def test_open_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.journal"
    empty.touch()
    with pytest.raises(JournalError, match="is empty"):
        Journal.open(empty)


def test_open_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    text = tmp_path / "ids.txt"
    text.write_text("1\n2\n3\n")
    with pytest.raises(JournalError, match="not an SQLite database"):
        Journal.open(text, write=True)


def test_open_refuses_sqlite_of_another_program(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("PRAGMA application_id = 1234")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(JournalError, match=r"another program \(application_id 0x4d2\)"):
        Journal.open(other)


def test_open_refuses_a_newer_schema(path: Path) -> None:
    Journal.create(path, SETTINGS).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(JournalError, match=f"newer bulkremove \\(schema {SCHEMA_VERSION + 1};"):
        Journal.open(path)


@pytest.mark.parametrize("version", [1, SCHEMA_VERSION - 1])
def test_open_refuses_an_older_schema(path: Path, version: int) -> None:
    Journal.create(path, SETTINGS).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {version}")
    con.commit()
    con.close()
    for write in (False, True):
        with pytest.raises(
            JournalError, match=f"older, unreleased bulkremove \\(schema {version};"
        ):
            Journal.open(path, write=write)


def test_open_refuses_a_damaged_file(path: Path) -> None:
    Journal.create(path, SETTINGS).close()
    with path.open("r+b") as f:  # keep the magic, wreck the header and the pages after it
        f.seek(16)
        f.write(b"\xff" * 4000)
    with pytest.raises(JournalError, match="damaged or unreadable"):
        Journal.open(path)


def test_open_with_our_id_but_no_tables_is_damaged(tmp_path: Path) -> None:
    odd = tmp_path / "odd.journal"
    con = sqlite3.connect(odd)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(JournalError, match="damaged or unreadable"):
        Journal.open(odd)


def test_duplicates_are_counted_once(journal: Journal) -> None:
    assert journal.add_pending([("00001", [5, 1, 5, 2]), ("00002", [5]), ("00001", [2])]) == 4
    assert journal.add_pending([("00001", [1, 7]), ("00002", [])]) == 1
    assert journal.counts()["00001"]["pending"] == 4
    assert journal.counts()["00002"]["pending"] == 1


@pytest.mark.parametrize("held", [0, 1 << 20], ids=["staged", "held"])
def test_add_pending_is_all_or_nothing(
    journal: Journal, monkeypatch: pytest.MonkeyPatch, held: int
) -> None:
    monkeypatch.setattr(intake_module, "_HELD_IDS", held)

    def batches() -> Iterator[tuple[str, list[int]]]:
        yield "00001", [1, 2]
        yield "00009", [3]
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        journal.add_pending(batches())
    assert count_pending(journal) == 0
    assert journal.campaigns() == []
    assert journal.add_pending([("00009", [3])]) == 1
    assert journal.campaigns() == ["00009"]


def test_pending_pages_are_keyset_pages(journal: Journal) -> None:
    journal.add_pending([("00001", list(range(25, 0, -1))), ("00002", [1, 2, 3])])
    record_outcomes(
        journal, [JournalUpdate("00001", i, "removed", 10.0, record_id=i) for i in (4, 5, 11)]
    )
    pages = []
    after = 0
    while page := journal.pending_page("00001", after, 10):
        pages.append(page)
        after = page[-1]
    assert pages[0] == [1, 2, 3, 6, 7, 8, 9, 10, 12, 13]
    assert [i for page in pages for i in page] == [i for i in range(1, 26) if i not in (4, 5, 11)]
    assert journal.pending_page("00002", 1, 10) == [2, 3]
    assert journal.pending_page("ZZZZZ", 0, 10) == []


def test_outcomes_update_attempts_times_and_flags(journal: Journal) -> None:
    journal.add_pending([("00001", [7, 8])])
    record_outcomes(
        journal, [JournalUpdate("00001", 7, "pending", 100.0, answer_lost=True, detail="timed out")]
    )
    record_outcomes(journal, [JournalUpdate("00001", 7, "pending", 110.0, in_call=True)])
    record_outcomes(journal, [JournalUpdate("00001", 7, "pending", 120.0, in_call=True)])
    record_outcomes(journal, [JournalUpdate("00001", 7, "not_found", 130.0)])

    row = record(journal, "00001", 7)
    assert row is not None
    assert row.state == "not_found"
    assert row.attempts == 4
    assert row.first_attempt_at == 100.0
    assert row.last_attempt_at == 130.0
    assert row.first_call_at == 110.0  # the first CALL_IN_PROGRESS, not the later one
    assert row.answer_lost is True  # sticks after later answers
    assert row.detail == "timed out"  # None keeps the last unexpected detail
    assert row.record_id is None

    untouched = record(journal, "00001", 8)
    assert untouched is not None
    assert (untouched.state, untouched.attempts, untouched.first_attempt_at) == ("pending", 0, None)
    assert untouched.answer_lost is False
    assert record(journal, "00001", 999) is None


def test_one_group_of_outcomes_in_one_call(journal: Journal) -> None:
    journal.add_pending([("00001", [1, 2, 3])])
    record_outcomes(
        journal,
        [
            JournalUpdate("00001", 1, "removed", 5.0, record_id=5235),
            JournalUpdate("00001", 2, "in_call", 5.0, in_call=True),
            JournalUpdate("00001", 3, "failed", 5.0, detail='{"http_status": 418}'),
        ],
    )
    rows = [record(journal, "00001", i) for i in (1, 2, 3)]
    assert [(r.state, r.record_id, r.first_call_at, r.detail) for r in rows if r] == [
        ("removed", 5235, None, None),
        ("in_call", None, 5.0, None),
        ("failed", None, None, '{"http_status": 418}'),
    ]


def test_outcome_for_an_unknown_record_changes_nothing(journal: Journal) -> None:
    journal.add_pending([("00001", [1])])
    with pytest.raises(JournalError, match="1 of 2 outcomes"):
        record_outcomes(
            journal,
            [
                JournalUpdate("00001", 1, "removed", 1.0),
                JournalUpdate("00001", 2, "removed", 1.0),
            ],
        )
    with pytest.raises(JournalError, match="unknown campaign"):
        record_outcomes(journal, [JournalUpdate("99999", 1, "removed", 1.0)])
    row = record(journal, "00001", 1)
    assert row is not None
    assert (row.state, row.attempts) == ("pending", 0)


def test_reset_for_resume(journal: Journal) -> None:
    journal.add_pending([("00001", [1, 2, 3, 4, 5])])
    record_outcomes(
        journal,
        [
            JournalUpdate("00001", 1, "removed", 1.0, record_id=11),
            JournalUpdate("00001", 2, "not_found", 1.0),
            JournalUpdate("00001", 3, "in_call", 1.0, in_call=True),
            JournalUpdate("00001", 4, "failed", 1.0, detail="boom"),
            JournalUpdate("00001", 5, "pending", 1.0, in_call=True),
        ],
    )
    assert journal.reset_for_resume() == 2
    states = {i: record(journal, "00001", i) for i in range(1, 6)}
    assert {i: r.state for i, r in states.items() if r} == {
        1: "removed",
        2: "not_found",
        3: "pending",
        4: "pending",
        5: "pending",
    }
    assert all(r is not None and r.attempts == 1 for r in states.values())
    assert all(r is not None and r.first_call_at is None for r in states.values())
    assert count_pending(journal) == 3
    assert journal.reset_for_resume() == 0


def test_a_resume_flags_what_an_unfinished_run_had_sent(journal: Journal) -> None:
    journal.add_pending([("00001", list(range(1, 11))), ("00002", [1, 2, 3])])
    journal.mark_sent("00001", 4)
    journal.mark_sent("00001", 6)
    journal.mark_sent("00002", 1)
    record_outcomes(
        journal,
        [
            JournalUpdate("00001", 1, "removed", 1.0, record_id=11),
            JournalUpdate("00001", 2, "not_found", 1.0),
            JournalUpdate("00001", 3, "in_call", 1.0, in_call=True),
            JournalUpdate("00001", 4, "failed", 1.0, detail="rejected: HTTP 400"),
        ],
    )
    assert journal.reset_for_resume() == 2
    lost = {(r.campaign, r.customer_id) for r in journal.records_in_states(STATES) if r.answer_lost}
    # 5 and 6 were sent, their answers never recorded; 3 was in a call, perhaps being retried
    assert lost == {("00001", 3), ("00001", 5), ("00001", 6), ("00002", 1)}
    journal.mark_sent("00001", 10)
    journal.clear_sent()  # the run ended with no request in flight
    journal.reset_for_resume()
    assert sum(r.answer_lost for r in journal.records_in_states(STATES)) == 4


def test_counts_include_every_state(journal: Journal) -> None:
    assert journal.counts() == {}
    journal.add_pending([("00001", [1, 2, 3]), ("00002", [1])])
    record_outcomes(
        journal,
        [JournalUpdate("00001", 1, "removed", 1.0), JournalUpdate("00001", 2, "failed", 1.0)],
    )
    assert journal.counts() == {
        "00001": {"pending": 1, "removed": 1, "not_found": 0, "in_call": 0, "failed": 1},
        "00002": {"pending": 1, "removed": 0, "not_found": 0, "in_call": 0, "failed": 0},
    }
    assert list(journal.counts()["00002"]) == list(STATES)


def test_ids_in_states_streams_by_campaign_then_id(journal: Journal) -> None:
    journal.add_pending([("00002", [30, 10]), ("00001", list(range(1, 25_001)))])
    record_outcomes(
        journal,
        [JournalUpdate("00002", 10, "failed", 1.0), JournalUpdate("00001", 7, "in_call", 1.0)],
    )
    assert list(journal.ids_in_states(["failed", "in_call"])) == [("00001", 7), ("00002", 10)]
    pending = journal.ids_in_states(["pending"], campaign="00001")
    assert next(pending) == ("00001", 1)
    assert sum(1 for _ in pending) == 24_998  # past one fetch of 10,000
    assert list(journal.ids_in_states(["pending"], campaign="ZZZZZ")) == []
    assert list(journal.ids_in_states([])) == []


def test_meta_values_round_trip(journal: Journal, path: Path) -> None:
    journal.set_meta("input", {"lines": 10, "ids": 9, "invalid": 0})
    journal.set_meta("exit_code", 0)
    journal.set_meta("exit_code", 4)
    journal.close()
    with Journal.open(path) as j:
        assert j.get_meta("input") == {"lines": 10, "ids": 9, "invalid": 0}
        assert j.get_meta("exit_code") == 4


def test_read_only_open_refuses_writes(path: Path) -> None:
    with Journal.create(path, SETTINGS) as j:
        j.add_pending([("00001", [1])])
    with Journal.open(path) as j:
        for write in (
            lambda: j.add_pending([("00001", [2])]),
            lambda: record_outcomes(j, [JournalUpdate("00001", 1, "removed", 1.0)]),
            j.reset_for_resume,
            lambda: j.set_meta("x", 1),
        ):
            with pytest.raises(JournalError, match="read-only"):
                write()
        assert count_pending(j) == 1


def test_second_writer_is_refused_naming_the_holder(path: Path) -> None:
    with Journal.create(path, SETTINGS) as first:
        first.add_pending([("00001", [1])])
        with pytest.raises(JournalError, match=f"in use by another .* \\(pid {os.getpid()}\\)"):
            Journal.open(path, write=True)
        with pytest.raises(JournalError, match=f"pid {os.getpid()}"):
            Journal.create(path, SETTINGS)
        with Journal.open(path) as reader:  # reading needs no lock
            assert count_pending(reader) == 1
    with Journal.open(path, write=True) as again:
        assert count_pending(again) == 1


def test_readers_see_campaigns_added_after_they_opened(journal: Journal, path: Path) -> None:
    with Journal.open(path) as reader:
        assert reader.campaigns() == []
        journal.add_pending([("00003", [1])])
        assert reader.campaigns() == ["00003"]
        assert reader.counts()["00003"]["pending"] == 1


def test_records_view_is_readable_in_the_shell(journal: Journal, path: Path) -> None:
    journal.add_pending([("00001", [42])])
    record_outcomes(journal, [JournalUpdate("00001", 42, "removed", 0.5, record_id=9)])
    con = sqlite3.connect(path)
    row = con.execute(
        "SELECT campaign, customer_id, state, record_id, attempts, first_attempt FROM records_view"
    ).fetchone()
    con.close()
    assert row == ("00001", 42, "removed", 9, 1, "1970-01-01T00:00:00.500Z")


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from bulkremove.journal import Journal, OutcomeGroup

    journal = Journal.open(sys.argv[1], write=True)
    journal.record_groups([OutcomeGroup("00001", [5], "removed", 12.5, [77])])
    print("committed", flush=True)
    time.sleep(60)
    """
)


def test_a_committed_outcome_survives_sigkill(path: Path) -> None:
    with Journal.create(path, SETTINGS) as j:
        j.add_pending([("00001", [5, 6])])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "committed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
    with Journal.open(path, write=True) as j:  # the dead process's lock went with it
        row = record(j, "00001", 5)
        assert row is not None
        assert (row.state, row.record_id, row.attempts) == ("removed", 77, 1)
        assert count_pending(j) == 1


def test_id_widths_count_ids_by_length_in_the_states_asked(path: Path) -> None:
    with Journal.create(path, {}) as journal:
        journal.add_pending([("00001", [7, 42, 99, 100, 5_000_000, 10**17]), ("00002", [1])])
        record_outcomes(journal, [JournalUpdate("00001", 42, "removed", 1.0)])
        record_outcomes(journal, [JournalUpdate("00001", 100, "failed", 1.0)])
        assert journal.id_widths(["pending"], "00001") == {1: 1, 2: 1, 7: 1, 18: 1}
        assert journal.id_widths(["pending", "failed"], "00001") == {1: 1, 2: 1, 3: 1, 7: 1, 18: 1}
        assert journal.id_widths(["pending"], "00002") == {1: 1}
        assert journal.id_widths(["pending"], "00003") == {}
        # a journal edited by hand: counted by the length of what is there
        journal._con.execute("UPDATE records SET customer_id = 'abcd' WHERE customer_id = 7")
        assert journal.id_widths(["pending"], "00001") == {2: 1, 4: 1, 7: 1, 18: 1}


def test_record_ids_are_kept_per_answer_and_none_keeps_the_one_before(journal: Journal) -> None:
    journal.add_pending([("00001", [1, 2, 3])])
    journal.record_groups([OutcomeGroup("00001", [1, 2], "removed", 1.0, [11, 22])])
    # an answer with no usable record id for 2 and 3 leaves what was known
    journal.record_groups([OutcomeGroup("00001", [2, 3], "removed", 2.0, [None, 33])])
    assert [record(journal, "00001", i).record_id for i in (1, 2, 3)] == [11, 22, 33]  # type: ignore[union-attr]
    (kept,) = journal._con.execute("SELECT count(*) FROM removals").fetchone()
    assert kept == 2  # one row per answer, not per record


def raw_states(path: Path) -> dict[int, int]:
    with sqlite3.connect(path) as shell:
        return dict(shell.execute("SELECT customer_id, state FROM records").fetchall())


def test_a_removed_run_is_one_row_and_every_reader_sees_its_records_removed(path: Path) -> None:
    with Journal.create(path, SETTINGS) as journal:
        journal.add_pending([("00001", range(1, 11))])
        ids = [3, 4, 5, 6]
        run = OutcomeGroup("00001", ids, "removed", 5.0, [30, 40, 50, 60], run=True)
        assert journal.record_groups([run]) == {"removed": 4}
        later = OutcomeGroup("00001", [9, 10], "removed", 6.0, [90, 100], run=True)
        assert journal.record_groups([later]) == {"removed": 2}
        # the records' own rows are not written; one row of removals stands for them
        assert set(raw_states(path).values()) == {0}
        with sqlite3.connect(path) as shell:
            kept = shell.execute("SELECT lo, hi, at, n, record_ids FROM removals").fetchall()
            view = shell.execute(
                "SELECT customer_id, state, record_id, attempts, last_attempt FROM records_view"
                " WHERE state = 'removed'"
            ).fetchall()
        assert kept == [(3, 6, 5.0, 4, "[30,40,50,60]"), (9, 10, 6.0, 2, "[90,100]")]
        assert view == [
            *((i, "removed", i * 10, 1, "1970-01-01T00:00:05.000Z") for i in ids),
            *((i, "removed", i * 10, 1, "1970-01-01T00:00:06.000Z") for i in (9, 10)),
        ]
        with Journal.open(path) as reader:  # read-only, as a report during a run reads
            for j in (journal, reader):
                assert j.counts()["00001"]["removed"] == 6
                assert j.counts()["00001"]["pending"] == 4
                assert count_pending(j) == 4
                assert record(j, "00001", 4) == JournalRecord(
                    "00001", 4, "removed", 40, 1, 5.0, 5.0, None, False, None
                )
                assert record(j, "00001", 10).record_id == 100  # type: ignore[union-attr]
                assert record(j, "00001", 7).state == "pending"  # type: ignore[union-attr]
                assert j.pending_page("00001", 0, 3) == [1, 2, 7]
                assert [i for _, i in j.ids_in_states(["removed"])] == [*ids, 9, 10]
                exported = [r.record_id for r in j.records_in_states(["removed"])]
                assert exported == [30, 40, 50, 60, 90, 100]
                assert j.id_widths(["pending"], "00001") == {1: 4}
                assert j.id_widths(["removed"], "00001") == {1: 5, 2: 1}


def test_opening_a_journal_to_write_folds_its_removed_runs(path: Path) -> None:
    with Journal.create(path, SETTINGS) as journal:
        journal.add_pending([("00001", range(1, 6))])
        journal.record_groups([OutcomeGroup("00001", [2, 3], "removed", 5.0, [20, 30], run=True)])
        before = list(journal.records_in_states(STATES))
    with Journal.open(path):  # read-only: nothing is written
        assert raw_states(path) == dict.fromkeys(range(1, 6), 0)
    with Journal.open(path, write=True) as resumed:
        assert raw_states(path) == {1: 0, 2: 1, 3: 1, 4: 0, 5: 0}
        with sqlite3.connect(path) as shell:
            assert shell.execute("SELECT lo, hi FROM removals").fetchall() == [(None, None)]
        assert list(resumed.records_in_states(STATES)) == before
