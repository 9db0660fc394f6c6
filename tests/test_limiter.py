from __future__ import annotations

import bisect
import itertools
import math
import time

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st
from virtual_time import VirtualTime

from bulkremove.limiter import RateLimiter


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def grants(limiter: RateLimiter, arrivals: list[float]) -> list[float]:
    """The times at which requests arriving at ``arrivals`` may go."""
    return [now + limiter.reserve(now) for now in arrivals]


def pytest_approx_list(values: list[float]) -> object:
    return pytest.approx(values, abs=1e-9)


# -- the synchronous core -----------------------------------------------------------------------


def test_requests_are_spaced_one_interval_apart() -> None:
    limiter = RateLimiter(10.0, clock=FakeClock())
    assert grants(limiter, [0.0] * 5) == pytest_approx_list([0.0, 0.1, 0.2, 0.3, 0.4])


def test_burst_goes_at_once_then_spacing_resumes() -> None:
    limiter = RateLimiter(2.0, burst=3, clock=FakeClock())
    assert grants(limiter, [0.0] * 6) == pytest_approx_list([0.0, 0.0, 0.0, 0.5, 1.0, 1.5])


def test_idle_time_refills_the_burst_and_no_more() -> None:
    limiter = RateLimiter(2.0, burst=3, clock=FakeClock())
    grants(limiter, [0.0] * 3)
    assert grants(limiter, [100.0] * 5) == pytest_approx_list([100.0] * 3 + [100.5, 101.0])


def test_reserve_waits_only_for_what_is_owed() -> None:
    limiter = RateLimiter(1.0, clock=FakeClock())
    assert limiter.reserve(0.0) == 0.0
    assert limiter.reserve(0.25) == pytest.approx(0.75)
    assert limiter.reserve(5.0) == 0.0


arrival_gaps = st.lists(st.floats(0.0, 2.0), min_size=1, max_size=200)


@given(
    rate=st.floats(0.1, 500.0),
    burst=st.integers(1, 10),
    gaps=arrival_gaps,
    pause=st.one_of(st.none(), st.tuples(st.integers(0, 199), st.floats(0.0, 5.0))),
)
def test_no_one_second_window_holds_more_than_rate_plus_burst(
    rate: float, burst: int, gaps: list[float], pause: tuple[int, float] | None
) -> None:
    limiter = RateLimiter(rate, burst=burst, clock=FakeClock())
    times = list(itertools.accumulate(gaps))
    granted: list[float] = []
    for n, now in enumerate(times):
        if pause is not None and pause[0] == n:
            limiter.pause_until(now + pause[1])
        granted.append(now + limiter.reserve(now))
    # Up to rounding (``now + (slot - now)``), grants keep arrival order and never come early.
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(granted))
    assert all(g >= t - 1e-9 for g, t in zip(granted, times, strict=True))
    granted.sort()
    # The busiest closed window starts at a grant.
    for start in granted:
        in_window = bisect.bisect_right(granted, start + 1.0) - bisect.bisect_left(granted, start)
        assert in_window <= rate + burst


def test_pause_holds_every_request_until_it_ends() -> None:
    limiter = RateLimiter(2.0, burst=2, clock=FakeClock())
    limiter.pause_until(3.0)
    # No burst when the pause ends: the server that asked for it gets normal spacing.
    assert grants(limiter, [0.0, 1.0, 2.0, 2.5]) == pytest_approx_list([3.0, 3.5, 4.0, 4.5])
    assert limiter.paused_until == 3.0


def test_the_later_pause_wins() -> None:
    limiter = RateLimiter(None, clock=FakeClock())
    limiter.pause_until(10.0)
    limiter.pause_until(4.0)
    assert limiter.paused_until == 10.0
    assert limiter.reserve(1.0) == 9.0


def test_unlimited_never_waits_but_honours_a_pause() -> None:
    for rate in (None, math.inf):
        limiter = RateLimiter(rate, burst=1, clock=FakeClock())
        assert limiter.rate is None
        assert grants(limiter, [0.0] * 1000) == [0.0] * 1000
        limiter.pause_until(2.0)
        assert grants(limiter, [1.0, 1.5, 3.0]) == [2.0, 2.0, 3.0]


def test_lowering_the_rate_spaces_requests_wider() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock)
    assert grants(limiter, [0.0]) == [0.0]
    clock.now = 0.05  # half of the old interval is still owed
    limiter.set_rate(1.0)
    assert limiter.rate == 1.0
    assert grants(limiter, [0.05, 0.05, 0.05]) == pytest_approx_list([0.55, 1.55, 2.55])


def test_raising_the_rate_spaces_requests_closer() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock)
    assert grants(limiter, [0.0]) == [0.0]
    clock.now = 0.5
    limiter.set_rate(10.0)
    assert grants(limiter, [0.5, 0.5, 0.5]) == pytest_approx_list([0.55, 0.65, 0.75])


def test_set_rate_does_not_stretch_a_pause() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, burst=1, clock=clock)
    limiter.pause_until(10.0)
    assert limiter.reserve(0.0) == 10.0  # granted at 10, next owed at 11
    limiter.set_rate(0.5)
    assert limiter.reserve(0.0) == pytest.approx(12.0)


def test_going_unlimited_and_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock)
    grants(limiter, [0.0, 0.0])
    limiter.set_rate(None)
    assert grants(limiter, [0.0] * 3) == [0.0] * 3
    limiter.set_rate(1.0)
    assert grants(limiter, [0.0, 0.0]) == [0.0, 1.0]


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan])
def test_invalid_rate_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate)
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(1.0).set_rate(rate)


def test_burst_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(1.0, burst=0)


# -- acquire, on virtual time ---------------------------------------------------------------------


async def acquire_and_log(
    limiter: RateLimiter, vt: VirtualTime, name: str, log: dict[str, float]
) -> None:
    await limiter.acquire()
    log[name] = vt.now


@pytest.mark.anyio
async def test_concurrent_acquirers_get_distinct_spaced_slots() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(4.0, burst=2, clock=vt, sleep=vt.sleep)
    log: dict[str, float] = {}
    async with anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(acquire_and_log, limiter, vt, f"w{n}", log)
        await vt.run(until=100.0)
    assert sorted(log.values()) == pytest_approx_list([0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
    # First come, first served.
    assert [log[f"w{n}"] for n in range(8)] == sorted(log.values())


@pytest.mark.anyio
async def test_a_pause_holds_everyone_including_the_sleeping_waiter() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(1.0, clock=vt, sleep=vt.sleep)
    log: dict[str, float] = {}
    async with anyio.create_task_group() as tg:
        for name in ("a", "b", "c"):
            tg.start_soon(acquire_and_log, limiter, vt, name, log)
        await vt.run(until=0.5)  # a went at 0; b sleeps until 1
        assert log == {"a": 0.0}
        limiter.pause_until(5.0)
        await vt.run(until=100.0)
    assert log == pytest.approx({"a": 0.0, "b": 5.0, "c": 6.0})


@pytest.mark.anyio
async def test_a_cancelled_waiter_leaves_no_slot_behind() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(1.0, clock=vt, sleep=vt.sleep)
    log: dict[str, float] = {}
    scope = anyio.CancelScope()

    async def cancellable() -> None:
        with scope:
            await acquire_and_log(limiter, vt, "b", log)

    async with anyio.create_task_group() as tg:
        tg.start_soon(acquire_and_log, limiter, vt, "a", log)
        tg.start_soon(cancellable)
        tg.start_soon(acquire_and_log, limiter, vt, "c", log)
        await vt.run(until=0.5)  # a went at 0; b sleeps until 1; c queues behind it
        scope.cancel()
        await vt.run(until=100.0)
    assert log == {"a": 0.0, "c": 1.0}


@pytest.mark.anyio
async def test_raising_the_rate_wakes_the_sleeping_waiter() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(0.1, clock=vt, sleep=vt.sleep)
    log: dict[str, float] = {}
    async with anyio.create_task_group() as tg:
        tg.start_soon(acquire_and_log, limiter, vt, "a", log)
        tg.start_soon(acquire_and_log, limiter, vt, "b", log)
        await vt.run(until=1.0)  # b would sleep until 10
        limiter.set_rate(10.0)
        await vt.run(until=100.0)
    # 9 s of the old 10 s interval were owed: 0.9 of a request, 0.09 s at the new rate.
    assert log == pytest.approx({"a": 0.0, "b": 1.09})


@pytest.mark.anyio
async def test_real_clock_and_sleep_space_acquirers() -> None:
    limiter = RateLimiter(2000.0)  # ten acquires take about 4.5 ms
    times: list[float] = []

    async def worker() -> None:
        await limiter.acquire()
        times.append(time.monotonic())

    start = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(worker)
    assert len(times) == 10
    assert times[-1] - start >= 9 / 2000 - 1e-3


def test_time_paused_counts_overlapping_pauses_once_and_only_what_has_passed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock)
    assert limiter.paused_s() == 0.0
    limiter.pause_until(clock.now + 2.0)
    clock.now += 1.0
    assert limiter.paused_s() == 1.0, "half of the pause has passed"
    limiter.pause_until(clock.now + 3.0)  # overlaps the first: 4 s paused in all
    clock.now += 10.0
    assert limiter.paused_s() == 4.0
    limiter.pause_until(clock.now - 1.0)  # already over: nothing
    assert limiter.paused_s() == 4.0
