from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.backoff import CALL_BACKOFF, Backoff
from bulkremove.scheduler import (
    DEFAULT_CALL_RETRY_TIMEOUT,
    Entry,
    RetryScheduler,
    next_call_retry,
)

CAMPAIGNS = ["00001", "00002", "ABCDE"]

# Distinct (campaign, customer_id) ids, each with a due time (coarse, so ties happen).
ids_with_due = st.lists(
    st.tuples(st.sampled_from(CAMPAIGNS), st.integers(1, 10**18), st.integers(0, 20)),
    unique_by=lambda t: (t[0], t[1]),
    max_size=60,
)

# Steps of the engine: advance the clock, pop with an optional campaign and limit.
pop_steps = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.one_of(st.none(), st.sampled_from(CAMPAIGNS)),
        st.one_of(st.none(), st.integers(1, 10)),
    ),
    max_size=30,
)


def fill(items: list[tuple[str, int, int]]) -> RetryScheduler:
    scheduler = RetryScheduler()
    for n, (campaign, customer_id, due) in enumerate(items):
        scheduler.schedule(campaign, customer_id, float(due), first_call_at=0.0, retries=n)
    return scheduler


@given(ids_with_due, pop_steps)
def test_every_id_comes_out_once_in_order_and_never_early(
    items: list[tuple[str, int, int]],
    steps: list[tuple[int, str | None, int | None]],
) -> None:
    scheduler = fill(items)
    order = {(c, i): n for n, (c, i, _) in enumerate(items)}
    out: list[Entry] = []
    now = 0.0
    for advance, campaign, limit in steps:
        now += advance
        popped = scheduler.pop_due(now, campaign=campaign, limit=limit)
        assert limit is None or len(popped) <= limit
        for entry in popped:
            assert entry.due <= now
            assert campaign is None or entry.campaign == campaign
        # Within one pop, earliest due first, ties in scheduling order.
        keys = [(e.due, order[e.campaign, e.customer_id]) for e in popped]
        assert keys == sorted(keys)
        out.extend(popped)
        assert len(scheduler) == len(items) - len(out)
    out.extend(scheduler.pop_due(math.inf))

    assert len(scheduler) == 0
    assert scheduler.next_due() is None
    assert sorted((e.campaign, e.customer_id) for e in out) == sorted(order)
    # The payload travels with the id.
    for entry in out:
        n = order[entry.campaign, entry.customer_id]
        assert entry.due == items[n][2]
        assert entry.retries == n
    # Per campaign, the whole sequence of pops is in order too.
    for campaign in CAMPAIGNS:
        keys = [(e.due, order[e.campaign, e.customer_id]) for e in out if e.campaign == campaign]
        assert keys == sorted(keys)


@given(ids_with_due, st.integers(0, 20))
def test_unfiltered_pop_is_in_global_order(items: list[tuple[str, int, int]], now: int) -> None:
    scheduler = fill(items)
    order = {(c, i): n for n, (c, i, _) in enumerate(items)}
    popped = scheduler.pop_due(float(now))
    expected = sorted((due, n) for n, (_, _, due) in enumerate(items) if due <= now)
    assert [(e.due, order[e.campaign, e.customer_id]) for e in popped] == expected


@given(ids_with_due, st.sampled_from(CAMPAIGNS))
def test_campaign_filter_leaves_the_others_in_place(
    items: list[tuple[str, int, int]], campaign: str
) -> None:
    scheduler = fill(items)
    popped = scheduler.pop_due(math.inf, campaign=campaign)
    assert sorted(e.customer_id for e in popped) == sorted(i for c, i, _ in items if c == campaign)
    rest = scheduler.pop_due(math.inf)
    assert sorted((e.campaign, e.customer_id) for e in rest) == sorted(
        (c, i) for c, i, _ in items if c != campaign
    )


@given(ids_with_due, st.integers(0, 20))
def test_due_campaign_and_next_due_name_the_earliest(
    items: list[tuple[str, int, int]], now: int
) -> None:
    scheduler = fill(items)
    assert scheduler.next_due() == (min(d for _, _, d in items) if items else None)
    due = [(d, n, c) for n, (c, _, d) in enumerate(items) if d <= now]
    assert scheduler.due_campaign(float(now)) == (min(due)[2] if due else None)


def test_due_campaign_feeds_a_batch() -> None:
    scheduler = RetryScheduler()
    scheduler.schedule("00002", 7, due=5.0, first_call_at=0.0, retries=0)
    scheduler.schedule("00001", 1, due=1.0, first_call_at=0.0, retries=0)
    scheduler.schedule("00001", 2, due=3.0, first_call_at=0.0, retries=1)
    scheduler.schedule("00001", 3, due=9.0, first_call_at=0.0, retries=0)
    assert scheduler.due_campaign(0.5) is None
    assert scheduler.pop_due(0.5) == []

    campaign = scheduler.due_campaign(6.0)
    assert campaign == "00001"
    batch = scheduler.pop_due(6.0, campaign=campaign, limit=100)
    assert [(e.customer_id, e.retries) for e in batch] == [(1, 0), (2, 1)]
    assert scheduler.due_campaign(6.0) == "00002"
    assert scheduler.next_due() == 5.0
    assert len(scheduler) == 2


def test_slack_packs_ids_due_a_moment_later() -> None:
    scheduler = RetryScheduler()
    for n, due in enumerate([10.0, 10.1, 10.2, 11.0]):
        scheduler.schedule("00001", n + 1, due=due, first_call_at=0.0, retries=0)
    batch = scheduler.pop_due(10.0 + 0.25, campaign="00001")
    assert [e.customer_id for e in batch] == [1, 2, 3]


def test_pop_with_limit_takes_the_earliest() -> None:
    scheduler = RetryScheduler()
    for n in range(10):
        scheduler.schedule("00001", 100 - n, due=float(n % 3), first_call_at=0.0, retries=0)
    first = scheduler.pop_due(5.0, limit=4)
    assert [e.customer_id for e in first] == [100, 97, 94, 91]
    assert len(scheduler) == 6


def test_nan_due_is_refused() -> None:
    scheduler = RetryScheduler()
    with pytest.raises(ValueError, match="NaN"):
        scheduler.schedule("00001", 1, due=math.nan, first_call_at=0.0, retries=0)
    assert len(scheduler) == 0


# -- CALL_IN_PROGRESS policy --------------------------------------------------------------------

policy_backoffs = st.builds(
    Backoff,
    initial=st.floats(0.0, 30.0),
    cap=st.floats(30.0, 120.0),
    multiplier=st.floats(1.0, 4.0),
)


@given(
    first_call_at=st.floats(0.0, 1e6),
    elapsed=st.floats(0.0, 2_000.0),
    retries=st.integers(0, 100),
    backoff=policy_backoffs,
    deadline_s=st.floats(0.0, 1_800.0),
    rng=st.randoms(use_true_random=False),
)
def test_call_retry_never_passes_the_deadline(
    first_call_at: float,
    elapsed: float,
    retries: int,
    backoff: Backoff,
    deadline_s: float,
    rng: random.Random,
) -> None:
    now = first_call_at + elapsed
    deadline = first_call_at + deadline_s
    due = next_call_retry(now, first_call_at, retries, backoff, deadline_s, rng)
    if now >= deadline:
        assert due is None
    else:
        assert due is not None
        assert now <= due <= deadline
        assert due >= min(now + backoff.floor(retries + 1), deadline)


def test_an_id_in_a_long_call_gets_a_last_try_at_its_deadline() -> None:
    rng = random.Random(7)
    first_call_at = now = 1_000.0
    deadline = first_call_at + DEFAULT_CALL_RETRY_TIMEOUT
    tries: list[float] = []
    retries = 0
    while (
        due := next_call_retry(now, first_call_at, retries, CALL_BACKOFF, 900.0, rng)
    ) is not None:
        assert due > now
        tries.append(due)
        now, retries = due, retries + 1  # the retry answers CALL_IN_PROGRESS again, at once
    assert tries[-1] == deadline
    assert 2.5 <= tries[0] - first_call_at <= 5.0
    # 900 s at delays of 30 to 60 s once capped: a bounded, modest number of tries.
    assert 15 <= len(tries) <= 40


def test_a_call_answer_after_the_deadline_is_final() -> None:
    rng = random.Random(0)
    assert next_call_retry(901.0, 0.0, 3, CALL_BACKOFF, 900.0, rng) is None
    assert next_call_retry(900.0, 0.0, 3, CALL_BACKOFF, 900.0, rng) is None
    assert next_call_retry(899.0, 0.0, 3, CALL_BACKOFF, 900.0, rng) == 900.0
