"""Ids waiting to be tried again, ordered by the time they come due.

One heap per campaign, since the engine packs due ids of one campaign into a request. Entries are
plain tuples ``(due, seq, customer_id, first_call_at, retries)``: ``seq`` breaks ties by insertion
order and keeps the comparison from ever reaching the payload. Popping ``k`` ids costs
``O(k log n)``; ``next_due`` and ``due_campaign`` look at the head of each campaign that holds
ids, of which a run has few.

Ids that come due close together are worth sending in one request: a caller that pops with
``pop_due(now + slack)`` (a slack of, say, 0.25 s) takes ids due a moment from now along with those
already due, sending them slightly early rather than in a request of their own.

The scheduler holds what it is given: it does not look for an id scheduled twice, because the
engine only schedules an id after its request has answered.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from typing import NamedTuple

from bulkremove.backoff import Backoff

DEFAULT_CALL_RETRY_TIMEOUT = 900.0
"""Seconds after its first CALL_IN_PROGRESS answer that an id is still retried."""

# (due, seq, customer_id, first_call_at, retries)
_Item = tuple[float, int, int, float, int]


class Entry(NamedTuple):
    """An id that came due."""

    campaign: str
    customer_id: int
    due: float
    first_call_at: float
    retries: int


class RetryScheduler:
    """A heap of ``(campaign, customer_id)`` ids keyed by due time.

    Pop order is earliest due first, ties in the order the ids were scheduled.
    """

    __slots__ = ("_heaps", "_seq", "_size")

    def __init__(self) -> None:
        self._heaps: dict[str, list[_Item]] = {}
        self._seq = itertools.count()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def schedule(
        self, campaign: str, customer_id: int, due: float, first_call_at: float, retries: int
    ) -> None:
        """Hold ``customer_id`` of ``campaign`` until ``due``."""
        if math.isnan(due):  # would corrupt the heap order
            raise ValueError("due time is NaN")
        heap = self._heaps.get(campaign)
        if heap is None:
            heap = self._heaps[campaign] = []
        heapq.heappush(heap, (due, next(self._seq), customer_id, first_call_at, retries))
        self._size += 1

    def next_due(self) -> float | None:
        """The earliest due time held, or None when empty."""
        heads = [heap[0][0] for heap in self._heaps.values()]
        return min(heads) if heads else None

    def due_campaign(self, now: float) -> str | None:
        """The campaign of the earliest id due at ``now``, or None when nothing is due."""
        best: tuple[float, int] | None = None
        found: str | None = None
        for campaign, heap in self._heaps.items():
            key = heap[0][:2]
            if key[0] <= now and (best is None or key < best):
                best, found = key, campaign
        return found

    def pop_due(
        self, now: float, *, campaign: str | None = None, limit: int | None = None
    ) -> list[Entry]:
        """Remove and return ids due at ``now``, earliest first, at most ``limit`` of them.

        With ``campaign``, only that campaign's ids; the others stay. ``pop_due(math.inf)`` empties
        the scheduler.
        """
        if limit is None:
            limit = self._size
        if campaign is not None:
            return self._pop_campaign(campaign, now, limit)
        # Merge the campaigns' heaps through a small heap of their heads.
        heads = [(heap[0][0], heap[0][1], c) for c, heap in self._heaps.items()]
        heapq.heapify(heads)
        out: list[Entry] = []
        while heads and len(out) < limit and heads[0][0] <= now:
            found = heads[0][2]
            heap = self._heaps[found]
            out.append(self._pop(found, heap))
            if heap:
                heapq.heapreplace(heads, (heap[0][0], heap[0][1], found))
            else:
                heapq.heappop(heads)
                del self._heaps[found]
        return out

    def _pop_campaign(self, campaign: str, now: float, limit: int) -> list[Entry]:
        heap = self._heaps.get(campaign)
        out: list[Entry] = []
        if heap is None:
            return out
        while len(out) < limit and heap and heap[0][0] <= now:
            out.append(self._pop(campaign, heap))
        if not heap:
            del self._heaps[campaign]
        return out

    def _pop(self, campaign: str, heap: list[_Item]) -> Entry:
        due, _, customer_id, first_call_at, retries = heapq.heappop(heap)
        self._size -= 1
        return Entry(campaign, customer_id, due, first_call_at, retries)


def next_call_retry(
    now: float,
    first_call_at: float,
    retries: int,
    backoff: Backoff,
    deadline_s: float,
    rng: random.Random,
) -> float | None:
    """When to try again an id that answered CALL_IN_PROGRESS at ``now``; None to give up.

    ``retries`` is how many retries the id has had so far (0 after its first such answer). The
    due time never passes the deadline ``first_call_at + deadline_s``: it is clamped to it, so the
    id gets a last try right at its deadline. An answer at or after the deadline gives None, and
    the record is final ``in_call``.
    """
    deadline = first_call_at + deadline_s
    if not now < deadline:
        return None
    return min(now + backoff.delay(retries + 1, rng), deadline)
