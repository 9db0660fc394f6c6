"""Where a stage's HTTP client comes from: a pool the caller shares, or one of the stage's own.

Each stage that talks to the API (a selection's listing, the snapshot, the engine) opens its
client here, so a caller's shared pool (:class:`bulkremove.BulkRemover` keeps one) serves them
all, and the HTTP stack loads only once a stage needs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from bulkremove.settings import Settings

if TYPE_CHECKING:
    from bulkremove.client import Client

ClientSource = Callable[[Settings], Awaitable["Client | None"]]
"""Gives a connection pool to share for a run with these settings, or None for one of its own."""


@contextlib.asynccontextmanager
async def client_for(settings: Settings, source: ClientSource | None) -> AsyncIterator[Client]:
    """``source``'s pool for ``settings`` (left open), else a client of its own (closed after)."""
    shared = await source(settings) if source is not None else None
    if shared is not None:
        yield shared
        return
    from bulkremove.client import Client  # the HTTP stack loads once it is needed

    async with Client(settings) as own:
        yield own
