"""How long one batch can be held by retries: bounded by ``batch_retry_timeout``, tries included.

Uncapped, the defaults would allow (max_attempts - 1) waits of up to max_retry_after plus
max_attempts requests of up to request_timeout: 7 * 300 + 8 * 30 = 2340 s for one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from test_engine_core import Rig, ScriptedSender, rig, run

from bulkremove.answers import Outcome
from bulkremove.engine.send import longest_batch
from bulkremove.errors import ServerError
from bulkremove.settings import Settings

pytestmark = pytest.mark.anyio

DEFAULTS = Settings()
RETRY_KEYS = (
    "max_attempts", "retry_initial", "retry_max", "max_retry_after", "request_timeout",
    "batch_retry_timeout",
)  # fmt: skip


def test_the_defaults_hold_one_batch_for_ten_minutes_at_most() -> None:
    uncapped = (DEFAULTS.max_attempts - 1) * max(
        DEFAULTS.max_retry_after, DEFAULTS.retry_max
    ) + DEFAULTS.max_attempts * DEFAULTS.request_timeout
    assert uncapped > 600, "the cap is what bounds the defaults"
    assert longest_batch(DEFAULTS) <= 600


def test_the_first_try_is_always_made() -> None:
    tight = Settings(batch_retry_timeout=5.0, request_timeout=30.0)
    assert longest_batch(tight) == 30.0


@dataclass
class SlowSender(ScriptedSender):
    """Each request takes ``duration`` seconds of the clock, then the script answers."""

    duration: float = 0.0
    spans: list[tuple[float, float, tuple[int, ...]]] = field(default_factory=list)

    async def delete_batch(self, campaign: str, ids: Sequence[int]) -> list[Outcome]:
        began = self.clock.now
        await self.clock.sleep(self.duration)
        try:
            return await super().delete_batch(campaign, ids)
        finally:
            self.spans.append((began, self.clock.now, tuple(ids)))


def slow_rig(retry_after: float | None, duration: float) -> tuple[Rig, SlowSender]:
    """100 ids in 4 batches, sent at once, to a server that answers 503 for good."""

    def failing(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception:
        return ServerError("HTTP 503", status=503, retry_after=retry_after)

    defaults = {key: getattr(DEFAULTS, key) for key in RETRY_KEYS}
    r = rig({"00001": range(1, 101)}, script=failing, sender_type=SlowSender, **defaults)
    assert isinstance(r.sender, SlowSender)
    r.sender.duration = duration
    return r, r.sender


@pytest.mark.parametrize(
    ("retry_after", "duration"),
    [(86400.0, 0.0), (86400.0, 30.0), (250.0, 29.0)],
)
async def test_a_server_that_never_recovers_holds_a_batch_within_the_bound(
    retry_after: float | None, duration: float
) -> None:
    r, sender = slow_rig(retry_after, duration)
    await run(r)
    assert r.store.states() == {"failed": 100}
    bound = longest_batch(DEFAULTS)
    by_batch: dict[tuple[int, ...], list[tuple[float, float]]] = {}
    for began, ended, ids in sender.spans:
        by_batch.setdefault(ids, []).append((began, ended))
    for spans in by_batch.values():
        assert spans[-1][1] - spans[0][0] <= bound + 1e-6
    assert r.clock.now <= bound + 1e-6
    assert "HTTP 503" in r.store.detail[("00001", 1)]


async def test_the_reason_says_the_batch_ran_out_of_time() -> None:
    r, _ = slow_rig(86400.0, 0.0)
    await run(r)
    assert r.store.detail[("00001", 1)].startswith("gave up after 2 tries in 300 s")
