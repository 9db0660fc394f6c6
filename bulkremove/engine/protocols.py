"""What the engine needs of the API client and of the journal, and nothing more.

The real :class:`bulkremove.client.Client` and :class:`bulkremove.journal.Journal` satisfy these
structurally; unit tests drive the engine with a scripted sender and an in-memory store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from bulkremove.answers import Outcome
from bulkremove.journal import OutcomeGroup


class Sender(Protocol):
    """Sends one batch DELETE; errors are those of :mod:`bulkremove.errors`."""

    def path(self, campaign: str) -> str:
        """The encoded path of the campaign's endpoint: what the byte budget counts."""
        ...

    async def delete_batch(self, campaign: str, ids: Sequence[int]) -> Sequence[Outcome]:
        """One outcome per id, in order; an ApiError when the request gave no such answer."""
        ...


class Pages(Protocol):
    """Reads pending ids a page at a time."""

    def pending_page(self, campaign: str, after: int, limit: int) -> list[int]:
        """Up to ``limit`` pending ids of ``campaign`` above ``after``, ascending."""
        ...

    def close(self) -> None: ...


class Store(Pages, Protocol):
    """The run's records: where pending ids come from and outcomes go."""

    @property
    def path(self) -> Path: ...

    def open(self, path: Path) -> Pages:
        """A second, read-only handle on the store at ``path``, for pages read meanwhile."""
        ...

    def campaigns(self) -> list[str]:
        """The campaigns holding records, in the order they are worked through."""
        ...

    def record_groups(self, groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        """Commit ``groups`` in one transaction; records changed, by the state they got."""
        ...

    def mark_sent(self, campaign: str, up_to: int) -> None:
        """Record, durably, that fresh ids of ``campaign`` up to ``up_to`` are being sent."""
        ...

    def clear_sent(self) -> None:
        """Forget those marks: the run ended with no request in flight."""
        ...
