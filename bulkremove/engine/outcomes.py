"""What an answer, or a try without one, gives the journal and the retry scheduler. Pure code.

Nothing here reads a clock or does I/O: the time of the answer is passed in, and so is the rule
that says when an id in a call is tried again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from bulkremove.answers import CALL_IN_PROGRESS, NOT_EXIST, REMOVED, Outcome, Outcomes
from bulkremove.engine.batch import Batch
from bulkremove.journal import OutcomeGroup

CallRetry = Callable[[float, float, int], float | None]
"""``(now, first_call_at, retries so far)`` to the due time of the next try; None: give up."""


class Now(NamedTuple):
    """The time of an answer on both clocks."""

    monotonic: float
    """For due times of retries."""
    wall: float
    """Unix seconds, for the journal."""


class Retry(NamedTuple):
    """An id in a call, to be tried again at ``due``."""

    customer_id: int
    due: float
    first_call_at: float
    retries: int
    """Retries after this one, counting it."""


def classify(
    batch: Batch, outcomes: Sequence[Outcome], now: Now, call_retry: CallRetry
) -> tuple[list[OutcomeGroup], list[Retry]]:
    """The journal groups and the retries that the answer ``outcomes`` to ``batch`` gives.

    Ids of one batch are distinct, so grouping them by state changes nothing in the journal.
    An id in a call is recorded ``in_call`` whether or not it is tried again: a retry that
    clears it records it anew.
    """
    campaign, lost, at = batch.campaign, batch.lost, now.wall
    answer = Outcomes.of(outcomes)
    ids, statuses, record_ids = answer.ids, answer.statuses, answer.record_ids
    removed_by = answer.removed  # keys that match several records: their record ids
    if answer.all_removed:
        # The usual answer: no Python code runs per id.
        group = OutcomeGroup(
            campaign, ids, "removed", at, record_ids, answer_lost=lost, run=batch.run,
            records=_pairs(ids, removed_by),
        )  # fmt: skip
        return [group], []
    groups: list[OutcomeGroup] = []
    retries: list[Retry] = []
    details = answer.details
    removed: list[int] = []
    removed_record_ids: list[int | None] = []
    not_found: list[int] = []
    in_call: list[int] = []
    for k, status in enumerate(statuses):
        customer_id = ids[k]
        if status == REMOVED and k not in details:
            removed.append(customer_id)
            removed_record_ids.append(record_ids[k])
        elif status == REMOVED:
            groups.append(
                OutcomeGroup(
                    campaign, [customer_id], "removed", at, [record_ids[k]], False, lost,
                    details[k],
                )
            )  # fmt: skip
        elif status == NOT_EXIST and k not in details:
            not_found.append(customer_id)
        elif status == NOT_EXIST:
            detail = details[k]
            groups.append(
                OutcomeGroup(campaign, [customer_id], "not_found", at, None, False, lost, detail)
            )
        elif status == CALL_IN_PROGRESS:
            first, tried = batch.calls.get(customer_id, (now.monotonic, 0))
            due = call_retry(now.monotonic, first, tried)
            if due is not None:
                retries.append(Retry(customer_id, due, first, tried + 1))
            in_call.append(customer_id)
        else:
            # An entry missing or unreadable may hide a removal carried out: flagged.
            detail = details.get(k) or f"status {status}"
            groups.append(
                OutcomeGroup(campaign, [customer_id], "failed", at, None, False, True, detail)
            )
    groups.append(
        OutcomeGroup(campaign, removed, "removed", at, removed_record_ids, answer_lost=lost)
    )
    groups.append(OutcomeGroup(campaign, not_found, "not_found", at, answer_lost=lost))
    groups.append(OutcomeGroup(campaign, in_call, "in_call", at, in_call=True, answer_lost=lost))
    groups = [group for group in groups if group.ids]
    if removed_by:
        # every record id removed, whatever its key's state, rides on the answer's first group
        groups[0] = groups[0]._replace(records=_pairs(ids, removed_by))
    return groups, retries


def _pairs(ids: Sequence[int], removed_by: dict[int, list[int]]) -> list[tuple[int, int]]:
    """``(key, record id)`` of every record removed, from index in ``ids`` to record ids."""
    return [(ids[k], record_id) for k, record_ids in removed_by.items() for record_id in record_ids]


def attempted(batch: Batch, at: float) -> list[OutcomeGroup]:
    """A try that gave no per-record answer, to be counted; the records keep their state."""
    campaign, lost, calls = batch.campaign, batch.lost, batch.calls
    waiting = [i for i in batch.ids if i not in calls]
    calling = [i for i in batch.ids if i in calls]
    groups = (
        OutcomeGroup(campaign, waiting, "pending", at, answer_lost=lost),
        OutcomeGroup(campaign, calling, "in_call", at, in_call=True, answer_lost=lost),
    )
    return [group for group in groups if group.ids]


def failed(batch: Batch, at: float, reason: str) -> list[OutcomeGroup]:
    """Every record of ``batch`` failed for ``reason``."""
    return [
        OutcomeGroup(
            batch.campaign, batch.ids, "failed", at, answer_lost=batch.lost, detail=reason,
            run=batch.run,
        )
    ]  # fmt: skip
