"""The two ways of asking the API about keys: one GET per record, or one listing of the campaign.

Both go through a :class:`Records` source, which sends through the run's rate limiter, retries
and time-outs. A single GET costs a request per key; a listing costs a request per page of 100
records of the campaign, whatever the number of keys. :func:`cheaper_way` picks between them.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Literal, Protocol

import anyio

from bulkremove.kinds import Kind
from bulkremove.verify.rules import ABSENT, Seen

Way = Literal["record", "listing"]
PAGE = 100
"""Records per listing page: the API's largest ``limit``."""


class Listed(Protocol):
    """A record as the API showed it (:class:`bulkremove.listing.ListedRecord` is one)."""

    @property
    def record_id(self) -> int: ...

    @property
    def key(self) -> int:
        """The journal's key (:attr:`bulkremove.kinds.Kind.listed_key` of what was listed)."""
        ...

    @property
    def system_status(self) -> str | None: ...


class Records(Protocol):
    """What the API is asked while verifying; errors are those of :mod:`bulkremove.errors`."""

    async def count(self, campaign: str, kind: Kind) -> int:
        """How many records ``campaign`` holds now (a CampaignNotFoundError if none such)."""
        ...

    def listing(self, campaign: str, kind: Kind) -> AsyncIterator[Sequence[Listed]]:
        """Every record of ``campaign``, a page at a time."""
        ...

    async def record(self, campaign: str, customer_id: int) -> Listed | None:
        """The one record of ``customer_id`` in ``campaign``, or None when the API has none."""
        ...


def cheaper_way(keys: int, records: int) -> Way:
    """The way that sends fewer requests for ``keys`` keys in a campaign of ``records``."""
    pages = max(1, math.ceil(records / PAGE))
    return "listing" if pages < keys else "record"


def seen(records: Sequence[Listed]) -> Seen:
    """What records the API showed for one key (several for a phone number)."""
    if not records:
        return ABSENT
    shown = [
        f"{r.record_id} {r.system_status}" if r.system_status else str(r.record_id) for r in records
    ]
    noun = "record" if len(records) == 1 else "records"
    return Seen(True, f"{noun} {', '.join(shown)}")


async def by_listing(source: Records, kind: Kind, campaign: str) -> dict[int, list[Listed]]:
    """The campaign's records as the API lists them now, by the journal's key."""
    found: dict[int, list[Listed]] = {}
    async for page in source.listing(campaign, kind):
        for record in page:
            found.setdefault(record.key, []).append(record)
    return found


async def by_record(
    source: Records, campaign: str, keys: Iterable[int], workers: int
) -> dict[int, Seen]:
    """What the API says of each of ``keys``, one GET each, ``workers`` of them at a time."""
    todo = iter(keys)
    answers: dict[int, Seen] = {}

    async def work() -> None:
        for key in todo:  # shared: each key is taken by one worker
            record = await source.record(campaign, key)
            answers[key] = seen([] if record is None else [record])

    async with anyio.create_task_group() as group:
        for _ in range(max(1, workers)):
            group.start_soon(work)
    return answers
