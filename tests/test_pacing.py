from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.pacing import AdaptiveRate


def test_starts_just_under_the_ceiling_and_only_moves_after_pushback() -> None:
    pacer = AdaptiveRate(ceiling=80.0, floor=0.5)
    assert pacer.rate == pytest.approx(79.2), "1% headroom"
    assert pacer.on_success(10.0) is None, "no limit seen yet: stay"
    assert not pacer.throttled


def test_a_throttle_soon_after_a_change_halves_and_counts_once() -> None:
    pacer = AdaptiveRate(ceiling=80.0, floor=0.5)
    assert pacer.on_congestion(0.01, sent=0.0) == pytest.approx(39.6)
    assert pacer.hi == pytest.approx(79.2)
    assert pacer.on_congestion(0.02, sent=0.005) is None, "sent at the old rate: same overload"
    assert pacer.on_congestion(0.05, sent=0.03) == pytest.approx(19.8), "sent at 39.6: again"
    assert pacer.throttled


def test_a_throttle_after_many_answers_steps_down_gently() -> None:
    pacer = AdaptiveRate(ceiling=40.0, floor=0.5)
    for k in range(10):
        pacer.on_success(k * 0.025)
    assert pacer.on_congestion(0.3, sent=0.29) == pytest.approx(0.9 * 39.6)


def test_holds_climb_the_bracket_and_settle_under_the_trouble() -> None:
    pacer = AdaptiveRate(ceiling=100.0, floor=0.5)
    pacer.on_congestion(0.0, sent=0.0)  # trouble at 99: rate 49.5
    now, rates = 0.0, []
    while not pacer.lo or pacer.hi / pacer.lo > 1 + pacer.precision:
        now += 0.1
        pacer.on_success(now)
        rates.append(pacer.rate)
    assert rates == sorted(rates), "with no throttle it only climbs"
    assert now < 10.0, "in a few seconds"
    assert 0.97 * 99 <= pacer.rate < 99


def test_a_throttle_at_a_rate_that_held_costs_a_small_step() -> None:
    pacer = AdaptiveRate(ceiling=100.0, floor=0.5)
    pacer.on_congestion(0.0, sent=0.0)
    now = 0.0
    while pacer.hi / max(pacer.lo, 1e-9) > 1 + pacer.precision:
        now += 0.1
        pacer.on_success(now)
    held = pacer.rate
    lowered = pacer.on_congestion(now + 5, sent=now + 4.9)
    assert lowered is not None
    assert 0.94 * held <= lowered < held, "an isolated throttle: a few percent, not a rout"


def test_probes_above_the_trouble_after_a_calm_spell() -> None:
    pacer = AdaptiveRate(ceiling=200.0, floor=0.5)
    pacer.on_congestion(0.0, sent=0.0)  # trouble at 198: rate 99
    pacer.on_success(1.0)  # held: try the middle, 140
    pacer.on_congestion(1.1, sent=1.05)  # trouble at 140: back to 99
    now = 1.1
    while pacer.hi / max(pacer.lo, 1e-9) > 1 + pacer.precision:
        now += 0.1
        pacer.on_success(now)
    hi = pacer.hi
    assert pacer.on_success(now + 1.0) is None
    assert pacer.on_success(now + pacer.calm + 1.0) == pytest.approx(hi * (1 + pacer.probe))


def test_a_stated_rate_is_followed_exactly_within_the_bounds() -> None:
    pacer = AdaptiveRate(ceiling=80.0, floor=0.5)
    assert pacer.advise(25.0, 1.0) == 25.0
    assert pacer.on_success(100.0) is None, "no search against a stated rate"
    assert pacer.advise(500.0, 2.0) == 80.0, "never above the ceiling"


def bucket_run(limit: float, told: float, seconds: float = 45.0) -> tuple[float, float]:
    """The share of the limit a pacer gets from a token bucket (burst 2), and its 429 share.

    Requests go at the pacer's rate, answered 2 ms later; a throttled one is not resent.
    """
    pacer = AdaptiveRate(ceiling=told, floor=0.5)
    tokens, last, now = 2.0, 0.0, 0.0
    accepted = throttled = 0
    pending: list[tuple[float, float, bool]] = []
    while now < seconds:
        for answer in [p for p in pending if p[0] <= now]:
            pending.remove(answer)
            done, sent, ok = answer
            pacer.on_success(done) if ok else pacer.on_congestion(done, sent)
        tokens = min(2.0, tokens + (now - last) * limit)
        last = now
        ok = tokens >= 1.0
        tokens -= 1.0 if ok else 0.0
        accepted, throttled = accepted + ok, throttled + (not ok)
        pending.append((now + 0.002, now, ok))
        now += 1.0 / pacer.rate
    return accepted / seconds / limit, throttled / (accepted + throttled)


@pytest.mark.parametrize(
    ("factor", "least", "most_429"), [(1, 0.97, 0.0), (4, 0.93, 0.01), (50, 0.9, 0.02)]
)
def test_against_a_token_bucket_it_sits_at_the_limit(
    factor: float, least: float, most_429: float
) -> None:
    share, throttled = bucket_run(20.0, 20.0 * factor)
    assert share >= least
    assert throttled <= most_429


@given(
    st.lists(st.tuples(st.floats(0.0, 5.0), st.booleans()), max_size=200),
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
        new = pacer.on_congestion(now, now) if congested else pacer.on_success(now)
        assert pacer.floor <= pacer.rate <= pacer.ceiling
        assert math.isfinite(pacer.rate)
        if new is not None:
            assert new == pacer.rate


def test_floor_above_ceiling_is_refused() -> None:
    with pytest.raises(ValueError, match="floor"):
        AdaptiveRate(ceiling=1.0, floor=2.0)
