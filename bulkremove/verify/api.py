"""The API as a verification asks it: the listing client's GETs, under the run's limiter,
retries and time-outs (:class:`bulkremove.listing.Lister`), on a connection pool of its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from bulkremove.client import Client
from bulkremove.kinds import Kind
from bulkremove.listing import Lister
from bulkremove.settings import Settings
from bulkremove.verify.ways import Listed


@contextlib.asynccontextmanager
async def api_records(settings: Settings) -> AsyncIterator[ApiRecords]:
    """The API's records for one verification, its connections closed when the block ends."""
    async with Client(settings) as client:
        yield ApiRecords(Lister(client, settings))


class ApiRecords:
    """The :class:`~bulkremove.verify.ways.Records` of the API, through one lister."""

    def __init__(self, lister: Lister) -> None:
        self._lister = lister

    async def count(self, campaign: str, kind: Kind) -> int:
        page = await self._lister.page(kind, campaign, None, 0)
        return page.count

    async def listing(self, campaign: str, kind: Kind) -> AsyncIterator[Sequence[Listed]]:
        async for page in self._lister.pages(kind, campaign, None):
            yield page.records

    async def record(self, campaign: str, customer_id: int) -> Listed | None:
        return await self._lister.record(campaign, customer_id)
