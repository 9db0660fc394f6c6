"""Churn: a dialer changing system statuses while a client pages through the listing.

Before each of the next ``requests`` listing GETs of a campaign (None: all of them), ``per_request``
records whose status is one of two are chosen by a seeded generator, and each is moved to the other
status. The same seed, campaign and requests make the same flips.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from bulkremove.sandbox.filters import Filters
from bulkremove.sandbox.listing import page
from bulkremove.settings.where import SYSTEM_STATUSES

if TYPE_CHECKING:
    from bulkremove.sandbox.state import Campaign


class Churn:
    """Flips between ``statuses`` before listings; ``flipped`` counts them."""

    __slots__ = ("_filters", "_rng", "flipped", "per_request", "requests", "statuses")

    def __init__(
        self, statuses: tuple[str, str], per_request: int, requests: int | None, seed: int
    ) -> None:
        first, second = statuses
        if first not in SYSTEM_STATUSES or second not in SYSTEM_STATUSES or first == second:
            raise ValueError(f"statuses {list(statuses)!r} must be two different system statuses")
        if per_request < 0:
            raise ValueError(f"per_request={per_request} must not be negative")
        if requests is not None and requests < 0:
            raise ValueError(f"requests={requests} must not be negative")
        self.statuses = statuses
        self.per_request = per_request
        self.requests = requests
        self.flipped = 0
        self._rng = random.Random(seed)
        self._filters = Filters(system_status=frozenset(statuses))

    def before_listing(self, campaign: Campaign) -> None:
        """Flip the statuses of this request's share of records (if any requests are left)."""
        if self.requests == 0:
            return
        if self.requests is not None:
            self.requests -= 1
        candidates, _ = page(campaign, self._filters, 0, 0)
        places = self._rng.sample(range(candidates), min(self.per_request, candidates))
        # All chosen before any flips: a flipped record stays a candidate, in the same place.
        chosen = [page(campaign, self._filters, place, 1)[1][0] for place in places]
        first, second = self.statuses
        for record in chosen:
            flipped = second if record.system_status == first else first
            campaign.set_status(record.record_id, flipped)
        self.flipped += len(chosen)
