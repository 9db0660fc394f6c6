"""What the workers are fed: due retries first, filled up with fresh ids of the same campaign.

Fresh ids come from the store a page at a time, one campaign after another; the next page is read
ahead on a task of its own, so that the batcher never waits for it while there are ids to send.
Memory is bounded by the page size, not by the number of records.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import anyio

from bulkremove.batching import Packer
from bulkremove.engine.batch import Batch
from bulkremove.scheduler import RetryScheduler

if TYPE_CHECKING:
    from bulkremove.engine.protocols import Pages
    from bulkremove.engine.send import UrlBudget

PAGE_SIZE = 20_000
"""Fresh ids read from the store at a time."""
READ_AHEAD = PAGE_SIZE // 2
"""Fresh ids at hand below which the next page is read, while the batcher goes on."""
RETRY_COALESCE = 1.0
"""A retry batch without fresh ids takes along ids due within this many seconds, early."""


class FreshIds:
    """Fresh ids at hand, ascending: a list and how many of them were handed out.

    Handing ids out moves an index, not the ids: no pop per id.
    """

    __slots__ = ("_ids", "_taken")

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._taken = 0

    def __len__(self) -> int:
        return len(self._ids) - self._taken

    def extend(self, page: list[int]) -> None:
        if self._taken:
            del self._ids[: self._taken]
            self._taken = 0
        self._ids.extend(page)

    def ahead(self, n: int) -> int | None:
        """The id ``n`` places into those not yet handed out (or the last of them); None if
        there are none."""
        last = min(self._taken + n, len(self._ids)) - 1
        return self._ids[last] if last >= self._taken else None

    def take_into(self, packer: Packer) -> None:
        """Add to ``packer`` as many of the next ids as fit."""
        self._taken += packer.add_many(self._ids, self._taken)


class Feed:
    """Hands out the next batch; ``exhausted`` once every campaign's fresh ids are handed out.

    ``read`` runs a page read off the event loop (on a thread); ``spawn`` starts the read ahead
    in the run's task group; ``notify`` wakes the batcher once a page read ahead is in.
    """

    def __init__(
        self,
        campaigns: Iterable[str],
        pages: Pages,
        *,
        path: Callable[[str], str],
        budget: UrlBudget,
        scheduler: RetryScheduler,
        max_ids: int,
        clock: Callable[[], float],
        read: Callable[[Callable[[], list[int]]], Awaitable[list[int]]],
        spawn: Callable[[Callable[[], Coroutine[Any, Any, None]]], object],
        notify: Callable[[], None],
        page_size: int = PAGE_SIZE,
        read_ahead: int = READ_AHEAD,
    ) -> None:
        self._campaigns = deque(campaigns)
        self._pages = pages
        self._path = path
        self._budget = budget
        self._scheduler = scheduler
        self._max_ids = max_ids
        self._clock = clock
        self._read = read
        self._spawn = spawn
        self._notify = notify
        self._page_size = page_size
        self._read_ahead = read_ahead
        self.exhausted = False
        """Every campaign's fresh ids are handed out."""
        self._fresh = FreshIds()
        self._campaign: str | None = None  # the campaign fresh ids come from
        self._after = 0  # the last id read; -1: the campaign has no more
        self._reading: anyio.Event | None = None  # while a page is read ahead; set once it is in
        self._packers: dict[str, Packer] = {}

    async def next_batch(self) -> Batch | None:
        """The next batch, or None when nothing is due and no fresh id is at hand."""
        await self._refill()
        now = self._clock()
        scheduler = self._scheduler
        campaign = scheduler.due_campaign(now)
        horizon = now
        if campaign is None:
            campaign = self._campaign
            if campaign is None or not self._fresh:
                return None
        elif campaign != self._campaign:
            # No fresh ids to fill up with: take along ids that come due soon.
            horizon = now + RETRY_COALESCE
        packer = self._packer(campaign)
        batch = Batch(campaign, [])
        while not packer.full:
            due = scheduler.pop_due(horizon, campaign=campaign, limit=1)
            if not due:
                break
            entry = due[0]
            if not packer.add(entry.customer_id):
                scheduler.schedule(
                    campaign, entry.customer_id, entry.due, entry.first_call_at, entry.retries
                )
                break
            batch.calls[entry.customer_id] = (entry.first_call_at, entry.retries)
        if campaign == self._campaign and self._fresh and not packer.full:
            self._fresh.take_into(packer)
        batch.ids = packer.take()
        batch.run = not batch.calls
        batch.budget = packer.budget
        return batch if batch.ids else None

    def sent_mark(self, batch: Batch, ahead: int) -> int:
        """How far into ``batch``'s campaign to mark sent before sending it: its last id, or,
        while its campaign's fresh ids are at hand, the id ``ahead`` places past it, so that
        the store is told once every few batches rather than for each."""
        last = batch.ids[-1]
        if batch.campaign == self._campaign:
            further = self._fresh.ahead(ahead)
            if further is not None and further > last:
                return further
        return last

    def _packer(self, campaign: str) -> Packer:
        packer = self._packers.get(campaign)
        limit = self._budget.limit
        if packer is None:
            packer = Packer(self._path(campaign), limit, self._max_ids, self._budget.pair)
            self._packers[campaign] = packer
        elif packer.budget > limit:
            packer.lower_budget(limit)
        return packer

    async def _refill(self) -> None:
        """Keep fresh ids of the current campaign at hand, a page at a time.

        The next page is read ahead once fewer than ``read_ahead`` ids are at hand (waiting for
        it emptied the workers' queue once a page).
        """
        while len(self._fresh) < self._max_ids and not self.exhausted:
            if self._reading is not None:
                await self._reading.wait()  # the page read ahead comes first
                continue
            if self._campaign is not None and self._after == -1:
                if self._fresh:
                    return  # the campaign's last ids go out before the next campaign's
                self._campaign = None
            if self._campaign is None:
                if not self._campaigns:
                    self.exhausted = True
                    return
                self._campaign = self._campaigns.popleft()
                self._after = 0
            await self._read_page()
        if (
            self._reading is None
            and self._campaign is not None
            and self._after != -1
            and len(self._fresh) < self._read_ahead
        ):
            self._reading = anyio.Event()
            self._spawn(self._read_page_ahead)

    async def _read_page_ahead(self) -> None:
        try:
            await self._read_page()
        finally:
            reading, self._reading = self._reading, None
            if reading is not None:
                reading.set()
            self._notify()

    async def _read_page(self) -> None:
        """Append the current campaign's next page of pending ids to the ids at hand."""
        campaign, after, size = self._campaign, self._after, self._page_size
        assert campaign is not None  # set by _refill
        page = await self._read(lambda: self._pages.pending_page(campaign, after, size))
        if page:
            self._fresh.extend(page)
            self._after = page[-1]
        else:
            self._after = -1
