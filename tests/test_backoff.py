from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.backoff import CALL_BACKOFF, TRANSIENT_BACKOFF, Backoff, retry_after_delay


@st.composite
def backoffs(draw: st.DrawFn) -> Backoff:
    initial = draw(st.floats(0.0, 100.0))
    cap = draw(st.floats(initial, 10_000.0))
    multiplier = draw(st.floats(1.0, 10.0))
    jitter = draw(st.floats(0.0, 1.0))
    return Backoff(initial=initial, cap=cap, multiplier=multiplier, jitter=jitter)


attempts = st.integers(1, 5_000)


@given(backoffs(), attempts, st.randoms(use_true_random=False))
def test_delay_stays_within_floor_and_cap(
    backoff: Backoff, attempt: int, rng: random.Random
) -> None:
    delay = backoff.delay(attempt, rng)
    assert 0.0 <= backoff.floor(attempt) <= delay <= backoff.ceiling(attempt) <= backoff.cap


@given(backoffs(), attempts)
def test_bounds_never_shrink_with_attempt(backoff: Backoff, attempt: int) -> None:
    assert backoff.ceiling(attempt) <= backoff.ceiling(attempt + 1)
    assert backoff.floor(attempt) <= backoff.floor(attempt + 1)


def test_equal_jitter_keeps_half_of_the_nominal_delay() -> None:
    rng = random.Random(1)
    first = [CALL_BACKOFF.delay(1, rng) for _ in range(200)]
    assert all(2.5 <= d <= 5.0 for d in first)
    late = [CALL_BACKOFF.delay(10, rng) for _ in range(200)]
    assert all(30.0 <= d <= 60.0 for d in late)
    # Ids that failed together are spread apart.
    assert len(set(first)) == len(first)
    assert max(late) - min(late) > 20.0


def test_without_jitter_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(initial=0.5, cap=30.0, jitter=0.0)
    rng = random.Random(0)
    delays = [backoff.delay(n, rng) for n in range(1, 10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_huge_attempt_gives_the_cap() -> None:
    assert TRANSIENT_BACKOFF.ceiling(10**6) == TRANSIENT_BACKOFF.cap
    assert Backoff(1.0, 5.0, multiplier=1.0).ceiling(10**6) == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": -1.0, "cap": 5.0},
        {"initial": 6.0, "cap": 5.0},
        {"initial": 1.0, "cap": math.inf},
        {"initial": math.nan, "cap": 5.0},
        {"initial": 1.0, "cap": 5.0, "multiplier": 0.5},
        {"initial": 1.0, "cap": 5.0, "jitter": 1.5},
    ],
)
def test_invalid_backoff_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**kwargs)


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError, match="attempt"):
        CALL_BACKOFF.delay(0, random.Random(0))


def test_retry_after_wins_over_backoff() -> None:
    assert retry_after_delay(None, 2.0, 120.0) == 2.0
    assert retry_after_delay(10.0, 2.0, 120.0) == 10.0
    assert retry_after_delay(1.0, 2.0, 120.0) == 1.0


def test_retry_after_is_capped() -> None:
    assert retry_after_delay(86_400.0, 2.0, 120.0) == 120.0


@pytest.mark.parametrize("bogus", [math.nan, -5.0])
def test_bogus_retry_after_is_ignored(bogus: float) -> None:
    assert retry_after_delay(bogus, 2.0, 120.0) == 2.0


@given(
    st.one_of(st.none(), st.floats(allow_nan=True)),
    st.floats(0.0, 1e6),
    st.floats(0.0, 1e6),
)
def test_retry_after_delay_bounds(
    retry_after: float | None, backoff_delay: float, max_wait: float
) -> None:
    wait = retry_after_delay(retry_after, backoff_delay, max_wait)
    assert 0.0 <= wait <= max_wait
    if retry_after is not None and retry_after >= 0:
        assert wait == min(retry_after, max_wait)
    else:
        assert wait == min(backoff_delay, max_wait)
