"""How long one batch can be held by retries: bounded by ``batch_retry_timeout``, tries included.

Uncapped, the defaults would allow (max_attempts - 1) waits of up to max_retry_after plus
max_attempts requests of up to request_timeout: 7 * 300 + 8 * 30 = 2340 s for one batch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from test_engine_core import EPOCH, MemoryStore, Rig, ScriptedSender, run, settings
from virtual_time import VirtualTime

from bulkremove.answers import Outcome
from bulkremove.engine import Engine
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
    spans: list[tuple[float, float, tuple[int, ...]]] | None = None

    async def delete_batch(self, campaign: str, ids: Sequence[int]) -> list[Outcome]:
        began = self.clock.now
        await self.clock.sleep(self.duration)
        try:
            return await super().delete_batch(campaign, ids)
        finally:
            assert self.spans is not None
            self.spans.append((began, self.clock.now, tuple(ids)))


def slow_rig(retry_after: float | None, duration: float, **changes: object) -> Rig:
    clock = VirtualTime(turns=10)
    store = MemoryStore({"00001": range(1, 101)})

    def failing(sender: ScriptedSender, campaign: str, ids: list[int]) -> Exception:
        return ServerError("HTTP 503", status=503, retry_after=retry_after)

    sender = SlowSender(clock, set(store.state), failing, duration=duration, spans=[])
    values = {key: getattr(DEFAULTS, key) for key in RETRY_KEYS} | changes
    engine = Engine(
        settings(**values),
        store,
        sender,
        clock=clock,
        wall_clock=lambda: EPOCH + clock.now,
        sleep=clock.sleep,
        rng=random.Random(7),
    )
    return Rig(clock, store, sender, engine)


@pytest.mark.parametrize(
    ("retry_after", "duration"),
    [(86400.0, 0.0), (86400.0, 30.0), (None, 30.0), (250.0, 29.0)],
)
async def test_a_server_that_never_recovers_holds_a_batch_within_the_bound(
    retry_after: float | None, duration: float
) -> None:
    r = slow_rig(retry_after, duration)
    await run(r)
    assert r.store.states() == {"failed": 100}
    assert isinstance(r.sender, SlowSender) and r.sender.spans is not None
    bound = longest_batch(DEFAULTS)
    by_batch: dict[tuple[int, ...], list[tuple[float, float]]] = {}
    for began, ended, ids in r.sender.spans:
        by_batch.setdefault(ids, []).append((began, ended))
    for spans in by_batch.values():
        assert spans[-1][1] - spans[0][0] <= bound + 1e-6
    assert r.clock.now <= bound + 1e-6
    assert "HTTP 503" in r.store.detail[("00001", 1)]


async def test_the_reason_says_the_batch_ran_out_of_time() -> None:
    r = slow_rig(86400.0, 0.0)
    await run(r)
    assert r.store.detail[("00001", 1)].startswith("gave up after 2 tries in 300 s")
