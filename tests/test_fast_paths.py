"""The bulk paths (per answer, per batch, per block) against plain one-at-a-time references."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from by_record import JournalUpdate, count_pending, record, record_outcomes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bulkremove.answers import (
    CALL_IN_PROGRESS,
    MISSING,
    NOT_EXIST,
    REMOVED,
    Outcome,
    Outcomes,
    excerpt,
    parse_outcomes,
    read_outcomes,
)
from bulkremove.batching import Packer, pack, records_path, target_length
from bulkremove.ids import MAX_ID_DIGITS
from bulkremove.ingest import blocks, keys
from bulkremove.journal import Journal, JournalRecord, OutcomeGroup, State
from bulkremove.journal import intake as intake_module

PATH = records_path("/api", "00001")
customer_ids = st.integers(min_value=1, max_value=10**MAX_ID_DIGITS - 1)
# ids of a few widths, so that batches are sometimes of one width and sometimes not
narrow_ids = st.one_of(
    st.integers(1, 9), st.integers(10, 99), st.integers(1_000_000, 9_999_999), customer_ids
)


# --- batching ------------------------------------------------------------------------------


@settings(max_examples=150)
@given(
    ids=st.lists(narrow_ids, max_size=80),
    budget=st.integers(min_value=100, max_value=1500),
    max_ids=st.integers(min_value=1, max_value=40),
    start=st.integers(min_value=0, max_value=10),
    prefill=st.lists(narrow_ids, max_size=5),
)
def test_add_many_adds_what_add_would(
    ids: list[int], budget: int, max_ids: int, start: int, prefill: list[int]
) -> None:
    bulk, single = Packer(PATH, budget, max_ids), Packer(PATH, budget, max_ids)
    for customer_id in prefill:
        bulk.add(customer_id)
        single.add(customer_id)
    added = bulk.add_many(ids, start)
    expected = 0
    for customer_id in ids[start:]:
        if not single.add(customer_id):
            break
        expected += 1
    assert added == expected
    assert bulk.take() == single.take()
    assert bulk.add(1) == single.add(1)  # the byte count kept matches too


@given(ids=st.lists(narrow_ids, max_size=60))
def test_target_length_counts_every_byte(ids: list[int]) -> None:
    assert target_length(PATH, ids) == len(PATH) + sum(19 + len(str(i)) for i in ids)
    assert target_length(PATH, iter(ids)) == target_length(PATH, ids)


def test_pack_crosses_its_reading_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import bulkremove.batching as batching

    monkeypatch.setattr(batching, "_PACK_CHUNK", 7)
    ids = [*range(1, 200), *range(10**8, 10**8 + 50)]
    batches = list(pack(iter(ids), PATH, 300, 12))
    assert [i for b in batches for i in b] == ids
    assert all(len(b) <= 12 and target_length(PATH, b) <= 300 for b in batches)
    for batch, after in itertools.pairwise(batches):
        assert len(batch) == 12 or target_length(PATH, [*batch, after[0]]) > 300


def test_text_ids_are_only_refused_later() -> None:
    """Anything but ints (a journal edited by hand) is packed the slow way, not crashed on."""
    packer = Packer(PATH, 8000, 500)
    assert packer.add_many(["3&x", 4, "5"]) == 3  # type: ignore[list-item]
    assert target_length(PATH, ["3&x"]) == len(PATH) + 19 + 3  # type: ignore[list-item]


# --- answers -------------------------------------------------------------------------------


def reference(body: bytes, ids: list[int]) -> list[Outcome]:
    """The outcome of each id, one id at a time."""
    data = orjson.loads(body)
    out = []
    for customer_id in ids:
        entry = data.get(str(customer_id))
        if entry is None:
            shown = f"no entry for this id in the answer: {excerpt(body, 200)}"
            out.append(Outcome(customer_id, MISSING, None, shown))
        elif not isinstance(entry, dict):
            out.append(Outcome(customer_id, "MALFORMED", None, orjson.dumps(entry).decode()))
        elif entry.get("status") == REMOVED:
            rid = entry.get("record_id")
            if type(rid) is int and 0 < rid < 2**63:
                out.append(Outcome(customer_id, REMOVED, rid, None))
            else:
                out.append(Outcome(customer_id, REMOVED, None, orjson.dumps(entry).decode()))
        elif entry.get("status") in (NOT_EXIST, CALL_IN_PROGRESS):
            out.append(Outcome(customer_id, entry["status"], None, None))
        elif isinstance(entry.get("status"), str):
            out.append(Outcome(customer_id, entry["status"], None, orjson.dumps(entry).decode()))
        else:
            out.append(Outcome(customer_id, "MALFORMED", None, orjson.dumps(entry).decode()))
    return out


entries = st.one_of(
    st.builds(lambda r: {"http_status": 200, "record_id": r, "status": REMOVED}, customer_ids),
    st.just({"http_status": 404, "status": NOT_EXIST}),
    st.just({"status": CALL_IN_PROGRESS, "record_id": 5}),
    st.builds(
        lambda r: {"status": REMOVED, "record_id": r},
        st.one_of(st.none(), st.just(0), st.just(-4), st.just(2**63), st.just("7"), st.just(1.5)),
    ),
    st.sampled_from([{"status": "LOCKED"}, {"status": 3}, {}, [], "REMOVED", None, 7]),
)


@settings(max_examples=150)
@given(
    answer=st.dictionaries(customer_ids, entries, max_size=12),
    extra=st.lists(customer_ids, max_size=3),
)
def test_read_outcomes_says_what_each_id_got(answer: dict[int, Any], extra: list[int]) -> None:
    ids = list(dict.fromkeys([*answer, *extra]))  # some asked ids have no entry
    body = orjson.dumps({str(k): v for k, v in answer.items() if v is not None})
    outcomes = read_outcomes(body, ids)
    assert list(outcomes) == reference(body, ids)
    assert parse_outcomes(body, ids) == reference(body, ids)
    assert outcomes.all_removed == all(
        o.status == REMOVED and o.detail is None for o in reference(body, ids)
    )


def test_outcomes_read_like_a_list() -> None:
    body = orjson.dumps(
        {
            "1": {"status": REMOVED, "record_id": 11},
            "2": {"status": NOT_EXIST},
            "3": {"status": "LOCKED"},
        }
    )
    outcomes = read_outcomes(body, [1, 2, 3])
    as_list = reference(body, [1, 2, 3])
    assert len(outcomes) == 3
    assert outcomes[0] == as_list[0] and outcomes[-1] == as_list[-1]
    assert outcomes[1:] == as_list[1:]
    assert outcomes == as_list and outcomes != as_list[:2]
    assert Outcomes.of(as_list) == outcomes
    assert Outcomes.of(outcomes) is outcomes
    with pytest.raises(IndexError):
        outcomes[3]
    assert "LOCKED" in repr(outcomes)


# --- the journal ---------------------------------------------------------------------------

EXAMPLES = itertools.count()
STATES_SENT = ["pending", "removed", "not_found", "in_call", "failed"]
updates = st.builds(
    JournalUpdate,
    campaign=st.sampled_from(["00001", "00002"]),
    customer_id=st.integers(1, 6),
    state=st.sampled_from(STATES_SENT),
    at=st.sampled_from([1.0, 2.0]),
    record_id=st.one_of(st.none(), st.integers(1, 99)),
    in_call=st.booleans(),
    answer_lost=st.booleans(),
    detail=st.one_of(st.none(), st.sampled_from(["x", "y"])),
)


def rows(journal: Journal) -> list[JournalRecord | None]:
    return [record(journal, c, i) for c in ("00001", "00002") for i in range(1, 7)]


@contextlib.contextmanager
def twin_journals(folder: Path) -> Iterator[tuple[Journal, Journal]]:
    """Two journals holding the same pending records, ids 1-6 of two campaigns."""
    first = Journal.create(folder / "first.sqlite", {})
    second = Journal.create(folder / "second.sqlite", {})
    try:
        for journal in (first, second):
            journal.add_pending([("00001", range(1, 7)), ("00002", range(1, 7))])
        yield first, second
    finally:
        first.close()
        second.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(updates, max_size=25))
def test_outcomes_in_one_commit_equal_one_by_one(
    tmp_path: Path, batch: list[JournalUpdate]
) -> None:
    with twin_journals(tmp_path / str(next(EXAMPLES))) as (bulk, single):
        counts = record_outcomes(bulk, batch)
        for update in batch:
            record_outcomes(single, [update])
        assert rows(bulk) == rows(single)
        assert counts == {s: n for s in STATES_SENT if (n := sum(u.state == s for u in batch))}


@st.composite
def outcome_groups(draw: st.DrawFn) -> OutcomeGroup:
    ids = draw(st.lists(st.integers(1, 6), min_size=1, max_size=6, unique=True))
    if draw(st.booleans()):
        ids.sort()  # may be a run of pending ids; the journal checks the claim
    record_ids = draw(
        st.one_of(
            st.none(),
            st.lists(
                st.one_of(st.none(), st.integers(1, 99)), min_size=len(ids), max_size=len(ids)
            ),
        )
    )
    return OutcomeGroup(
        draw(st.sampled_from(["00001", "00002"])),
        ids,
        draw(st.sampled_from(STATES_SENT)),
        draw(st.sampled_from([1.0, 2.0])),
        record_ids,
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.one_of(st.none(), st.sampled_from(["x", "y"]))),
        draw(st.booleans()),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(groups=st.lists(outcome_groups(), max_size=8))
@example(  # 2 and 3 are the pending ids from 1 to 4, not 1 and 4 (the same count and sum)
    groups=[
        OutcomeGroup("00001", [1, 4], "removed", 1.0),
        OutcomeGroup("00001", [1, 4], "pending", 1.0, run=True),
    ]
)
def test_groups_equal_their_updates_one_by_one(tmp_path: Path, groups: list[OutcomeGroup]) -> None:
    with twin_journals(tmp_path / str(next(EXAMPLES))) as (grouped, single):
        counts = grouped.record_groups(groups)
        for g in groups:
            for k, customer_id in enumerate(g.ids):
                record_id = None if g.record_ids is None else g.record_ids[k]
                update = JournalUpdate(g.campaign, customer_id, g.state, g.at, record_id,
                                       g.in_call, g.answer_lost, g.detail)  # fmt: skip
                record_outcomes(single, [update])
        assert rows(grouped) == rows(single)
        by_state = {s: sum(len(g.ids) for g in groups if g.state == s) for s in STATES_SENT}
        assert counts == {s: n for s, n in by_state.items() if n}


@st.composite
def removed_runs(draw: st.DrawFn) -> OutcomeGroup:
    """Mostly what a removed batch of fresh ids gives: ascending ids, each with a record id."""
    first = draw(st.integers(1, 9))
    ids = list(range(first, min(first + draw(st.integers(2, 5)), 11)))
    if draw(st.booleans()):  # with gaps: a run only if the ids between are not pending
        ids = sorted(draw(st.sets(st.sampled_from(ids), min_size=1)))
    return OutcomeGroup(
        draw(st.sampled_from(["00001", "00002"])),
        ids,
        "removed",
        draw(st.sampled_from([1.0, 2.0])),
        [i * 10 for i in ids],
        run=draw(st.booleans()) or True,
    )


def attempt(call: Any, *args: Any) -> Any:
    """What a call returns, or the message of the error it raises."""
    try:
        return call(*args)
    except Exception as exc:
        return str(exc)


def observed(journal: Journal) -> dict[str, Any]:
    """Everything a reader of the journal can see of its records."""
    every: list[State] = ["pending", "removed", "not_found", "in_call", "failed"]
    view = journal._con.execute("SELECT * FROM records_view ORDER BY 1, 2").fetchall()
    return {
        "records": [record(journal, c, i) for c in ("00001", "00002") for i in range(1, 11)],
        "counts": journal.counts(),
        "pending": count_pending(journal),
        "view": view,
        "by_state": {s: list(journal.records_in_states([s])) for s in every},
        "pending_or_failed": list(journal.ids_in_states(["pending", "failed"])),
        "removed_ids": list(journal.ids_in_states(["removed"], "00001")),
        "widths": {s: journal.id_widths([s], "00002") for s in ("pending", "removed")},
        "pages": [journal.pending_page("00001", after, 2) for after in range(11)],
    }


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.one_of(
            st.lists(st.one_of(removed_runs(), outcome_groups()), min_size=1, max_size=4),
            st.sets(st.integers(1, 10), min_size=1, max_size=3).map(sorted),
        ),
        max_size=10,
    )
)
@example(  # an id added later inside a removed run's range stays pending
    steps=[[OutcomeGroup("00001", [7, 9], "removed", 1.0, [70, 90], run=True)], [8]]
)
@example(  # a run overlapping a removed run is not one: 2 and 3 were removed already
    steps=[
        [OutcomeGroup("00001", [1, 2, 3], "removed", 1.0, [10, 20, 30], run=True)],
        [OutcomeGroup("00001", [2, 3, 4, 5], "removed", 2.0, [20, 30, 40, 50], run=True)],
    ]
)
def test_removed_runs_read_and_fold_like_rows_written_at_once(
    tmp_path: Path, steps: list[list[OutcomeGroup] | list[int]]
) -> None:
    folder = tmp_path / str(next(EXAMPLES))
    with twin_journals(folder) as (kept, written):
        for journal in (kept, written):  # gaps, for ids added later inside a run's range
            journal.add_pending([("00001", [7, 9])])
        written._may_defer = lambda *args: False  # type: ignore[method-assign]
        for step in steps:
            if isinstance(step[0], int):
                for journal in (kept, written):
                    journal.add_pending([("00001", step)])
            else:
                assert attempt(kept.record_groups, step) == attempt(written.record_groups, step)
            assert observed(kept) == observed(written)
    # opened again to be written, the runs are folded: the rows themselves are alike
    table = "SELECT * FROM records ORDER BY campaign_key, customer_id"
    with (
        Journal.open(folder / "first.sqlite", write=True) as kept,
        Journal.open(folder / "second.sqlite", write=True) as written,
    ):
        unfolded = "SELECT count(*) FROM removals WHERE hi IS NOT NULL"
        assert kept._con.execute(unfolded).fetchone() == (0,)
        assert kept._con.execute(table).fetchall() == written._con.execute(table).fetchall()
        assert observed(kept) == observed(written)


def counts_from_view(journal: Journal) -> dict[str, dict[str, int]]:
    """Records per campaign and state as ``records_view`` lists them, one row at a time."""
    tally = {c: dict.fromkeys(STATES_SENT, 0) for c in journal.campaigns()}
    for campaign, _, state in journal._con.execute(
        "SELECT campaign, customer_id, state FROM records_view"
    ):
        tally[campaign][state] += 1
    return tally


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    inputs=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["00001", "00002"]), st.lists(st.integers(1, 12), max_size=6)
            ),
            max_size=4,
        ),
        min_size=1,
        max_size=3,
    ),
    held=st.sampled_from([0, 1, 5, 1 << 20]),
    run=st.integers(0, 6),
    groups=st.lists(st.one_of(removed_runs(), outcome_groups()), max_size=4),
)
def test_ingest_held_or_staged_and_counts_agree_with_the_rows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    inputs: list[list[tuple[str, list[int]]]],
    held: int,
    run: int,
    groups: list[OutcomeGroup],
) -> None:
    monkeypatch.setattr(intake_module, "_HELD_IDS", held)  # 0: every id staged at once
    model: dict[str, set[int]] = {}
    with Journal.create(tmp_path / f"{next(EXAMPLES)}.sqlite", {}) as journal:
        for batches in inputs:
            before = sum(map(len, model.values()))
            for campaign, ids in batches:
                model.setdefault(campaign, set()).update(ids)
            model = {c: held_ids for c, held_ids in model.items() if held_ids}
            assert journal.add_pending(batches) == sum(map(len, model.values())) - before
        for campaign, expected in model.items():
            assert journal.pending_page(campaign, 0, 100) == sorted(expected)
        assert journal.campaigns() == sorted(model)
        if run and model:  # the first pending ids of a campaign, removed: kept as a run
            first = min(model)
            head = sorted(model[first])[:run]
            journal.record_groups([OutcomeGroup(first, head, "removed", 1.0, head, run=True)])
        for group in groups:  # some name records that are not there: refused, nothing changes
            attempt(journal.record_groups, [group])
        assert journal.counts() == counts_from_view(journal)


def test_outcomes_naming_unknown_records_change_nothing(tmp_path: Path) -> None:
    with Journal.create(tmp_path / "j.sqlite", {}) as journal:
        journal.add_pending([("00001", [1, 2])])
        with pytest.raises(Exception, match="1 of 3 outcomes name records"):
            journal.record_groups([OutcomeGroup("00001", [1, 2, 3], "removed", 1.0, [11, 12, 13])])
        assert [record(journal, "00001", i).state for i in (1, 2)] == ["pending"] * 2  # type: ignore[union-attr]


def test_ingest_leaves_the_journal_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal.create(path, {}) as journal:
        assert journal.add_pending([("00002", [5, 3]), ("00001", [9, 9, 1])]) == 4
        assert journal._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert journal.pending_page("00001", 0, 10) == [1, 9]
        assert journal.pending_page("00002", 0, 10) == [3, 5]
    assert not Path(f"{path}-journal").exists()


# --- ingest --------------------------------------------------------------------------------

text_lines = st.one_of(
    st.integers(1, 10**MAX_ID_DIGITS - 1).map(lambda i: str(i).encode()),
    st.sampled_from([b"", b"0", b"007", b"1" * 19, b" 5", b"6\r", b"#x", b"1e3", b"-2", b"9" * 18]),
)


@settings(max_examples=100)
@given(lines=st.lists(text_lines, min_size=1, max_size=12), newline_at_end=st.booleans())
def test_digit_lines_take_only_runs_of_plain_ids(lines: list[bytes], newline_at_end: bool) -> None:
    chunk = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    fast = keys.digit_lines(chunk)
    if fast is None:
        return
    expected = keys.clean_block(blocks.split_lines(chunk))
    assert expected is not None
    assert list(fast) == expected and len(fast) == len(expected)
    assert orjson.loads(fast.as_json()) == expected
    assert fast[0] == expected[0] and fast == expected


def test_a_run_of_ids_is_updated_by_range_only_when_it_is_one(tmp_path: Path) -> None:
    with Journal.create(tmp_path / "j.sqlite", {}) as journal:
        journal.add_pending([("00001", [*range(1, 9), 10, 11, 12])])
        journal.record_groups([OutcomeGroup("00001", [3], "removed", 1.0, [33])])
        # 3 is removed already: 1, 2, 4, 5 are every pending id from 1 to 5, kept as a run
        run = OutcomeGroup("00001", [1, 2, 4, 5], "removed", 2.0, [11, 22, 44, 55], run=True)
        assert journal.record_groups([run]) == {"removed": 4}
        # 7 is pending and not in the group: not a run, so 7 must stay untouched
        not_run = OutcomeGroup("00001", [6, 8], "failed", 3.0, detail="x", run=True)
        assert journal.record_groups([not_run]) == {"failed": 2}
        # and a removed batch that is not a run is written row by row
        gap = OutcomeGroup("00001", [10, 12], "removed", 4.0, [100, 120], run=True)
        assert journal.record_groups([gap]) == {"removed": 2}
        runs = journal._con.execute("SELECT lo, hi FROM removals WHERE hi IS NOT NULL")
        assert runs.fetchall() == [(1, 5)]
        got = {i: record(journal, "00001", i) for i in range(1, 13)}
        assert {i: r.state for i, r in got.items() if r} == {
            1: "removed", 2: "removed", 3: "removed", 4: "removed", 5: "removed",
            6: "failed", 7: "pending", 8: "failed", 10: "removed", 11: "pending", 12: "removed",
        }  # fmt: skip
        assert [got[i].record_id for i in (1, 2, 3, 4, 5)] == [11, 22, 33, 44, 55]  # type: ignore[union-attr]
        assert got[7].attempts == 0 and got[6].attempts == 1  # type: ignore[union-attr]
