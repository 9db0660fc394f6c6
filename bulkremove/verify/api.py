"""The API as a verification asks it: the listing client's GETs, under the run's limiter,
retries and time-outs (:class:`bulkremove.listing.Lister`), on a connection pool of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Self

from bulkremove.client import Client
from bulkremove.listing import TARGETS, Lister
from bulkremove.settings import Settings
from bulkremove.verify.ways import Listed


class ApiRecords:
    """The :class:`~bulkremove.verify.ways.Records` of the API; use as ``async with``."""

    def __init__(self, settings: Settings) -> None:
        self._client = Client(settings)
        self._lister = Lister(self._client, settings)

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)

    @property
    def requests(self) -> int:
        """GETs sent so far, tries included."""
        return self._lister.requests

    async def count(self, campaign: str, target: str) -> int:
        page = await self._lister.page(TARGETS[target], campaign, None, 0)
        return page.count

    async def listing(self, campaign: str, target: str) -> AsyncIterator[Sequence[Listed]]:
        async for page in self._lister.pages(TARGETS[target], campaign, None):
            yield page.records

    async def record(self, campaign: str, customer_id: int) -> Listed | None:
        return await self._lister.record(campaign, customer_id)
