"""One request's worth of ids, as the feed packs it and the workers send it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Batch:
    """One request's worth of ids of one campaign."""

    campaign: str
    ids: list[int]
    calls: dict[int, tuple[float, int]] = field(default_factory=dict)
    """For ids retried after CALL_IN_PROGRESS: (first such answer, monotonic; retries so far)."""
    lost: bool = False
    """An earlier try of this batch lost its answer, so a NOT_EXIST may be our own removal."""
    run: bool = False
    """Fresh ids only: consecutive pending ids of the campaign, ascending (see OutcomeGroup)."""
    budget: int | None = None
    """The byte budget it was packed under; None: unknown, measure it before sending."""
