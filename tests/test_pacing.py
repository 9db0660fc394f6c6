from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.pacing import AdaptiveRate


def test_starts_at_the_ceiling_and_only_moves_after_pushback() -> None:
    pacer = AdaptiveRate(ceiling=80.0, floor=0.5)
    assert pacer.rate == 80.0
    assert pacer.on_success(10.0) is None, "no limit seen yet: stay at the ceiling"
    assert not pacer.throttled


def test_congestion_lowers_and_a_streak_lowers_steeply() -> None:
    pacer = AdaptiveRate(ceiling=80.0, floor=0.5)
    assert pacer.on_congestion(0.0) == pytest.approx(64.0)
    assert pacer.on_congestion(0.5) is None, "the same overload, seen by requests in flight"
    assert pacer.on_congestion(2.0) == pytest.approx(32.0), "again soon after: halve"
    assert pacer.on_congestion(10.0) == pytest.approx(25.6), "after a while: gentle again"
    assert pacer.throttled


def test_recovers_to_just_below_the_trouble_then_probes_after_calm() -> None:
    pacer = AdaptiveRate(ceiling=80.0, floor=0.5)
    pacer.on_congestion(0.0)  # trouble at 80: w_max 80, rate 64
    pacer.on_congestion(2.0)  # again at 64: w_max 64, rate 32
    now, rates = 2.0, []
    for _ in range(12):
        now += 1.0
        new = pacer.on_success(now)
        rates.append(pacer.rate if new is None else new)
    assert rates == sorted(rates), "it recovers monotonically"
    assert rates[-1] == pytest.approx(0.9 * 64, rel=0.02), "settles under the trouble level"
    assert rates[-1] < 64
    settled = pacer.rate
    now = 2.0 + 25.0  # past the calm spell
    assert pacer.on_success(now) == pytest.approx(settled + 0.02 * 64)


@given(
    st.lists(
        st.tuples(st.floats(0.0, 5.0), st.booleans()),
        max_size=200,
    ),
    st.floats(1.0, 1000.0),
    st.floats(0.01, 1.0),
)
def test_rate_stays_between_floor_and_ceiling(
    events: list[tuple[float, bool]], ceiling: float, floor_share: float
) -> None:
    pacer = AdaptiveRate(ceiling=ceiling, floor=ceiling * floor_share)
    now = 0.0
    for step, congested in events:
        now += step
        new = pacer.on_congestion(now) if congested else pacer.on_success(now)
        assert pacer.floor <= pacer.rate <= pacer.ceiling
        if new is not None:
            assert new == pacer.rate


def test_floor_above_ceiling_is_refused() -> None:
    with pytest.raises(ValueError, match="floor"):
        AdaptiveRate(ceiling=1.0, floor=2.0)
