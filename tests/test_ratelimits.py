"""Rate-limit headers: read in every form, and what the governor makes of them."""

from __future__ import annotations

from typing import Any

import pytest

from bulkremove.errors import ServerError, ThrottledError
from bulkremove.governor import Governor
from bulkremove.limiter import RateLimiter
from bulkremove.pacing import AdaptiveRate
from bulkremove.ratelimits import RateLimits, rate_limits_of
from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig
from bulkremove.settings import Settings

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"ratelimit-policy": "10;w=1"}, RateLimits(rate=10.0)),
        ({"ratelimit-policy": '"burst";q=100;w=60, "day";q=1000;w=86400'}, RateLimits(100 / 60)),
        (
            {"ratelimit": "limit=10, remaining=0, reset=3"},
            RateLimits(remaining=0.0, reset=3.0),
        ),
        ({"ratelimit": '"default";r=4;t=2'}, RateLimits(remaining=4.0, reset=2.0)),
        (
            {"ratelimit-limit": "10", "ratelimit-remaining": "7", "ratelimit-reset": "1"},
            RateLimits(remaining=7.0, reset=1.0),
        ),
        (
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": f"{NOW + 30:.0f}"},
            RateLimits(remaining=0.0, reset=30.0),
        ),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.125"}, RateLimits(None, 0, 0.125)),
        ({"retry-after": "2"}, RateLimits(retry_after=2.0)),
        ({"content-type": "application/json"}, None),
    ],
)
def test_every_form_is_read(headers: dict[str, str], expected: RateLimits | None) -> None:
    assert rate_limits_of(headers, NOW, answered=True) == expected


def test_an_errors_retry_after_is_left_to_the_error() -> None:
    assert rate_limits_of({"retry-after": "2"}, NOW, answered=False) is None


def test_a_quota_used_up_pauses_only_without_a_policy() -> None:
    assert RateLimits(remaining=0.0, reset=3.0).pause() == 3.0
    assert RateLimits(remaining=1.0, reset=3.0).pause() is None
    assert RateLimits(rate=10.0, remaining=0.0, reset=1.0).pause() is None
    assert RateLimits(retry_after=2.0, remaining=0.0, reset=3.0).pause() == 3.0


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def governor(adaptive: bool = True, rate: float = 80.0) -> tuple[Governor, Clock]:
    clock = Clock()
    limiter = RateLimiter(rate, 2, clock=clock)
    pacer = AdaptiveRate(rate, 0.5) if adaptive else None
    return Governor(limiter, pacer, clock=clock, max_pause=300.0), clock


def test_a_policy_sets_the_rate_exactly() -> None:
    gov, _ = governor()
    gov.answered(RateLimits(rate=25.0))
    assert gov.limiter.rate == 25.0
    fixed, _ = governor(adaptive=False)
    fixed.answered(RateLimits(rate=500.0))
    assert fixed.limiter.rate == 80.0, "never above the ceiling"


def test_a_used_up_quota_pauses_every_worker_until_the_reset() -> None:
    gov, clock = governor()
    gov.answered(RateLimits(remaining=0.0, reset=2.5))
    assert gov.limiter.paused_until == pytest.approx(clock.now + 2.5)


def test_a_short_429_delays_its_batch_only_while_the_rate_adapts() -> None:
    gov, clock = governor()
    short = ThrottledError("429", status=429, retry_after=1.0)
    assert not gov.pauses_all(short, 1.0)
    gov.pushed_back(short, sent=clock.now)
    assert gov.limiter.rate is not None and gov.limiter.rate < 79.2
    assert gov.limiter.burst == 1
    assert gov.pauses_all(ThrottledError("429", status=429, retry_after=5.0), 5.0)
    assert gov.pauses_all(ServerError("503", status=503, retry_after=1.0), 1.0)
    fixed, _ = governor(adaptive=False)
    assert fixed.pauses_all(short, 1.0), "nothing else slows a fixed rate down"


@pytest.mark.anyio
@pytest.mark.parametrize("form", ["ietf", "x"])
async def test_the_sandbox_states_its_limit_and_the_client_reads_it(form: str) -> None:
    from bulkremove.client import Client

    config = SandboxConfig(
        port=0, campaigns=(RangeSeed("00001", 1, 50),), rate_limit=5.0, rate_burst=2,
        rate_headers=form,
    )  # fmt: skip
    async with Sandbox(config) as server:
        settings = Settings(base_url=server.base_url, username="api_user", password="api_pass")
        async with Client(settings) as client:
            first: Any = await client.delete_batch("00001", [1])
            second: Any = await client.delete_batch("00001", [2])
            with pytest.raises(ThrottledError) as throttled:
                await client.delete_batch("00001", [3])
    limits = first.limits
    assert isinstance(limits, RateLimits)
    if form == "ietf":
        assert limits.rate == 5.0
    else:
        assert limits.rate is None and second.limits.remaining == 0
        assert 0 < second.limits.reset <= 0.2  # a token comes every 0.2 s
    assert isinstance(throttled.value.limits, RateLimits)
