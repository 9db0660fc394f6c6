"""The progress feed of a run: the engine's figures, measured and handed to each sink."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from bulkremove.progress import Progress, ProgressMeter, ProgressSink

if TYPE_CHECKING:
    from bulkremove.engine import Engine


def measure(
    meter: ProgressMeter,
    engine: Engine | None,
    *,
    final: bool = False,
    in_call: int | None = None,
    pending: int | None = None,
    ending: str = "finished",
) -> Progress:
    """This run's figures; at the end, ``in_call`` and ``pending`` come from the journal, and
    ``ending`` says how the run ended."""
    sample = _sample(meter, engine, final=final, in_call=in_call, pending=pending)
    return dataclasses.replace(sample, ending=ending) if final else sample


def _sample(
    meter: ProgressMeter,
    engine: Engine | None,
    *,
    final: bool,
    in_call: int | None,
    pending: int | None,
) -> Progress:
    if engine is None:
        return meter.measure(
            removed=0, not_found=0, failed=0, in_call=in_call or 0, requests=0, rate=None,
            final=final, pending=pending,
        )  # fmt: skip
    committed = engine.stats.committed
    return meter.measure(
        removed=committed.get("removed", 0),
        not_found=committed.get("not_found", 0),
        failed=committed.get("failed", 0),
        in_call=engine.waiting_on_calls if in_call is None else in_call,
        requests=engine.stats.requests,
        rate=engine.rate,
        errors=engine.stats.by_error,
        paused_s=engine.paused_s,
        final=final,
        pending=pending,
    )


async def feed_progress(
    engine: Engine, meter: ProgressMeter, sinks: Sequence[ProgressSink]
) -> None:
    """Feed each sink on its own interval, the first sample at once."""
    async with anyio.create_task_group() as group:
        for sink in sinks:
            group.start_soon(_feed, engine, meter, sink)


async def _feed(engine: Engine, meter: ProgressMeter, sink: ProgressSink) -> None:
    # A task per sink: a slow one (the metrics file counts the journal) never stalls the display.
    while True:
        pending = sink.update(measure(meter, engine))
        if pending is not None:
            await pending
        await anyio.sleep(sink.interval)
