"""The journal writer: outcomes buffered by the workers, committed a few times a second."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio

from bulkremove.journal import OutcomeGroup

COMMIT_INTERVAL = 0.2
"""Seconds between group commits of outcomes."""
MAX_BUFFERED = 150_000
"""Outcomes waiting for a commit before workers wait for the writer."""


class OutcomeWriter:
    """Buffers outcome groups and commits them in one transaction at a time.

    ``commit`` writes groups to the store (off the event loop) and returns the records changed
    by state; ``committed`` adds them up, for progress.
    """

    def __init__(
        self,
        commit: Callable[[Sequence[OutcomeGroup]], Awaitable[dict[str, int]]],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        committed: dict[str, int],
    ) -> None:
        self._commit = commit
        self._clock = clock
        self._sleep = sleep
        self.committed = committed
        self._buffer: list[OutcomeGroup] = []
        self._buffered = 0  # ids in the buffer
        self._flushed = anyio.Event()

    def record(self, groups: list[OutcomeGroup]) -> None:
        """Buffer outcomes for the next group commit."""
        self._buffer.extend(groups)
        self._buffered += sum(len(group.ids) for group in groups)

    async def wait_if_full(self) -> None:
        """Hold a worker while the buffer is full, until the next commit."""
        if self._buffered >= MAX_BUFFERED:
            await self._flushed.wait()

    async def run(self) -> None:
        """Commit at least every COMMIT_INTERVAL, and sooner once half of MAX_BUFFERED waits.

        So a fast run never leaves workers waiting for the writer. Runs until cancelled.
        """
        last = self._clock()
        while True:
            await self._sleep(COMMIT_INTERVAL / 10)
            if self._buffered >= MAX_BUFFERED // 2 or self._clock() - last >= COMMIT_INTERVAL:
                await self.flush()
                last = self._clock()

    async def flush(self) -> None:
        """Commit what is buffered, and wake workers waiting on a full buffer."""
        if self._buffer:
            groups, self._buffer, self._buffered = self._buffer, [], 0
            # Shielded: taken out of the buffer, the groups would be lost to a cancellation
            # (the end of the run cancels the writer's loop wherever it is).
            with anyio.CancelScope(shield=True):
                by_state = await self._commit(groups)
            committed = self.committed
            for state, count in by_state.items():
                committed[state] = committed.get(state, 0) + count
        self._flushed.set()
        self._flushed = anyio.Event()
