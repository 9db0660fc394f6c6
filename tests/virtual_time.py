"""Virtual time for tests: a clock and a sleep on which waits of minutes take no real time."""

from __future__ import annotations

import heapq
import itertools

import anyio
import anyio.lowlevel


class VirtualTime:
    """A clock and a sleep: time jumps to the next sleeper's wake-up once every task is blocked.

    Sleeps overlap as real ones do. "Every task is blocked" is judged by letting the event loop
    turn ``turns`` times (anyio's wait_all_tasks_blocked polls with real 0.1 s sleeps); a few
    turns are ample for the hand-offs of the code under test.
    """

    def __init__(self, turns: int = 200) -> None:
        self.now = 0.0
        self.turns = turns
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + max(delay, 0.0), next(self._seq), event))
        await event.wait()

    async def settle(self) -> None:
        """Let every runnable task run on to its next block."""
        for _ in range(self.turns):
            await anyio.lowlevel.checkpoint()

    async def run(self, until: float) -> None:
        """Let the tasks run while virtual time advances to ``until``."""
        while True:
            await self.settle()
            if not self._sleepers or self._sleepers[0][0] > until:
                self.now = max(self.now, until)
                return
            self._wake()

    async def drive(self) -> None:
        """Move time on for as long as anything sleeps; run it as a task, and cancel it."""
        while True:
            await self.settle()
            if self._sleepers:
                self._wake()

    def _wake(self) -> None:
        wake, _, event = heapq.heappop(self._sleepers)
        self.now = max(self.now, wake)
        event.set()
