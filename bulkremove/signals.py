"""The signal watcher of a run: SIGINT and SIGTERM stop it gracefully, a second one at once."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from bulkremove.logs import get_logger

if TYPE_CHECKING:
    from bulkremove.engine import Engine


@dataclass(slots=True)
class Interrupt:
    """The name of the first signal that stopped the run, if one did."""

    signal: str | None = None


async def watch_signals(
    scope: anyio.CancelScope, engine: Engine, grace: float, interrupt: Interrupt
) -> None:
    """First signal: stop sending, give answers in flight ``grace`` seconds. Second: stop now."""
    log = get_logger("run")
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            if interrupt.signal is None:
                interrupt.signal = name
                log.warning("run_stopping", signal=name, grace_period_s=grace)
                engine.stop()
                scope.deadline = anyio.current_time() + grace
            else:
                log.warning("run_stopped_now", signal=name)
                scope.cancel()
                return
