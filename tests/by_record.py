"""The journal one record at a time, made of its public calls: what tests compare it with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bulkremove.journal import STATES, Journal, JournalRecord, OutcomeGroup, State


class JournalUpdate(NamedTuple):
    """One attempt's outcome for one record; fields mean what they mean in OutcomeGroup."""

    campaign: str
    customer_id: int
    state: State
    at: float
    record_id: int | None = None
    in_call: bool = False
    answer_lost: bool = False
    detail: str | None = None


def record_outcomes(journal: Journal, updates: Sequence[JournalUpdate]) -> dict[str, int]:
    """Apply ``updates`` in order, in one transaction, as one-record groups."""
    return journal.record_groups(
        [
            OutcomeGroup(u.campaign, [u.customer_id], u.state, u.at, [u.record_id],
                         u.in_call, u.answer_lost, u.detail)
            for u in updates
        ]
    )  # fmt: skip


def record(journal: Journal, campaign: str, customer_id: int) -> JournalRecord | None:
    """The journal's record of one customer id, as an export gives it, or None."""
    found = (r for r in journal.records_in_states(STATES, campaign) if r.customer_id == customer_id)
    return next(found, None)


def count_pending(journal: Journal) -> int:
    """How many records are pending, over all campaigns."""
    return sum(numbers["pending"] for numbers in journal.counts().values())
