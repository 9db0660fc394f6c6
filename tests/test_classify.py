"""classify(), attempted() and failed(): what an answer gives the journal and the scheduler."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bulkremove.answers import CALL_IN_PROGRESS, MALFORMED, MISSING, NOT_EXIST, REMOVED, Outcome
from bulkremove.engine import Batch
from bulkremove.engine.outcomes import Now, Retry, attempted, classify, failed

NOW = Now(monotonic=100.0, wall=1_700_000_100.0)
DEADLINE = 60.0


def call_retry(now: float, first_call_at: float, retries: int) -> float | None:
    """Every 5 s until 60 s after the first answer in a call (deterministic, for the tests)."""
    return None if now >= first_call_at + DEADLINE else min(now + 5.0, first_call_at + DEADLINE)


statuses = st.sampled_from([REMOVED, NOT_EXIST, CALL_IN_PROGRESS, MISSING, MALFORMED, "LOCKED"])


@st.composite
def answered_batches(draw: st.DrawFn) -> tuple[Batch, list[Outcome]]:
    ids = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=40, unique=True))
    calls = {
        i: (draw(st.floats(0.0, NOW.monotonic)), draw(st.integers(0, 12)))
        for i in ids
        if draw(st.booleans())
    }
    batch = Batch("00001", ids, calls, lost=draw(st.booleans()), run=not calls)
    outcomes = []
    for customer_id in ids:
        status = draw(statuses)
        detail = None
        record_id = None
        if status == REMOVED:
            record_id = draw(st.one_of(st.none(), st.integers(1, 2**62)))
            detail = '{"status":"REMOVED"}' if record_id is None else None
        elif status not in (NOT_EXIST, CALL_IN_PROGRESS):
            detail = draw(st.one_of(st.none(), st.text(min_size=1, max_size=20)))
        outcomes.append(Outcome(customer_id, status, record_id, detail))
    return batch, outcomes


@settings(deadline=None)  # a loaded machine is slow to draw 40 ids; speed is not tested here
@given(answered_batches())
def test_every_id_lands_in_one_group_by_what_the_server_said(
    answered: tuple[Batch, list[Outcome]],
) -> None:
    batch, outcomes = answered
    groups, retries = classify(batch, outcomes, NOW, call_retry)
    placed = Counter(i for group in groups for i in group.ids)
    assert placed == Counter(batch.ids), "each id once"
    state_of = {i: group for group in groups for i in group.ids}
    for outcome in outcomes:
        group = state_of[outcome.customer_id]
        assert group.campaign == "00001" and group.at == NOW.wall
        # an entry that cannot be read may follow a removal carried out
        assert group.answer_lost == (batch.lost or group.state == "failed")
        expected = {REMOVED: "removed", NOT_EXIST: "not_found", CALL_IN_PROGRESS: "in_call"}
        assert group.state == expected.get(outcome.status, "failed")
        assert group.in_call == (outcome.status == CALL_IN_PROGRESS)
        if outcome.status == REMOVED:
            assert group.record_ids is not None
            assert group.record_ids[list(group.ids).index(outcome.customer_id)] == (
                outcome.record_id
            )
        if group.state == "failed":
            assert group.detail == (outcome.detail or f"status {outcome.status}")
        elif outcome.detail is not None:
            assert group.detail == outcome.detail, "anything unexpected is kept verbatim"
        # only a batch of fresh ids that all came back removed may be written as a range
        assert not group.run or (len(groups) == 1 and batch.run)
    in_call = {o.customer_id for o in outcomes if o.status == CALL_IN_PROGRESS}
    assert {r.customer_id for r in retries} <= in_call
    for retry in retries:
        first, tried = batch.calls.get(retry.customer_id, (NOW.monotonic, 0))
        due = call_retry(NOW.monotonic, first, tried)
        assert due is not None
        assert retry == Retry(retry.customer_id, due, first, tried + 1)
    for customer_id in in_call - {r.customer_id for r in retries}:
        first, _ = batch.calls[customer_id]
        assert NOW.monotonic >= first + DEADLINE, "given up only at the deadline"


@settings(deadline=None)
@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=300, unique=True), st.booleans())
def test_the_usual_answer_is_one_group(ids: list[int], lost: bool) -> None:
    batch = Batch("00007", sorted(ids), lost=lost, run=True)
    outcomes = [Outcome(i, REMOVED, i + 1, None) for i in batch.ids]
    groups, retries = classify(batch, outcomes, NOW, call_retry)
    assert retries == []
    (group,) = groups
    assert (group.state, group.run, group.answer_lost) == ("removed", True, lost)
    assert list(group.ids) == batch.ids and list(group.record_ids or []) == [
        i + 1 for i in batch.ids
    ]


def test_a_first_answer_in_a_call_starts_its_clock_now() -> None:
    batch = Batch("00001", [5, 6], calls={6: (70.0, 3)})
    outcomes = [Outcome(i, CALL_IN_PROGRESS, None, None) for i in (5, 6)]
    _, retries = classify(batch, outcomes, NOW, call_retry)
    assert retries == [Retry(5, 105.0, 100.0, 1), Retry(6, 105.0, 70.0, 4)]
    batch = Batch("00001", [6], calls={6: (40.0, 9)})
    groups, retries = classify(batch, outcomes[1:], NOW, call_retry)
    assert retries == [] and [g.state for g in groups] == ["in_call"], "past its deadline"


def test_a_try_without_an_answer_keeps_each_record_in_its_state() -> None:
    batch = Batch("00001", [1, 2, 3], calls={2: (10.0, 1)}, lost=True)
    pending, calling = attempted(batch, 5.0)
    assert (pending.state, list(pending.ids), pending.answer_lost) == ("pending", [1, 3], True)
    assert (calling.state, list(calling.ids), calling.in_call) == ("in_call", [2], True)
    assert [g.state for g in attempted(Batch("00001", [4]), 5.0)] == ["pending"]


def test_a_failed_batch_says_why() -> None:
    (group,) = failed(Batch("00001", [1, 2], run=True), 5.0, "rejected: HTTP 400")
    assert (group.state, group.detail, group.run, group.at) == (
        "failed",
        "rejected: HTTP 400",
        True,
        5.0,
    )


def test_an_answer_without_entries_flags_its_records_as_possibly_removed() -> None:
    batch = Batch("00001", [1, 2, 3], run=True)
    outcomes = [
        Outcome(1, REMOVED, 11, None),
        Outcome(2, MISSING, None, "no entry for this id in the answer: {}"),
        Outcome(3, MALFORMED, None, '{"status":null}'),
    ]
    groups, _ = classify(batch, outcomes, NOW, call_retry)
    flagged = {i for group in groups if group.answer_lost for i in group.ids}
    assert flagged == {2, 3}
    assert {i for group in groups if group.state == "failed" for i in group.ids} == {2, 3}
