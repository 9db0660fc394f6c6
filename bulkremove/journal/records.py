"""What the journal knows of a record: its states, and the values that carry records in and out.

A record is one customer id of one campaign. Its state is ``pending`` until an answer settles it:
``removed`` (the server said REMOVED), ``not_found`` (NOT_EXIST), ``in_call`` (still in a call at
its deadline) or ``failed``. ``in_call`` and ``failed`` go back to ``pending`` on resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

State = Literal["pending", "removed", "not_found", "in_call", "failed"]
STATES: tuple[State, ...] = ("pending", "removed", "not_found", "in_call", "failed")
CODE: dict[str, int] = {name: code for code, name in enumerate(STATES)}
"""A state's code, as the ``records`` table stores it."""
PENDING, REMOVED, NOT_FOUND, IN_CALL, FAILED = range(len(STATES))


class OutcomeGroup(NamedTuple):
    """One outcome shared by several distinct records of a campaign: what one answer gives.

    The engine's unit of work for the journal (a batch's ids stay one list, not a tuple per id),
    applied by ``Journal.record_groups``. ``state`` is the records' new state: ``pending`` when
    they will be tried again (a retry after CALL_IN_PROGRESS, or a transient failure). ``at`` is
    the attempt's time in unix seconds. ``record_ids``, if given, go with ``ids`` in order; a None
    keeps the record's previous record id. ``in_call`` marks a CALL_IN_PROGRESS answer:
    ``first_call_at`` is set if still unset. ``answer_lost`` marks an attempt whose answer never
    came (time-out, dropped connection); the flag stays set for good. ``detail`` is the raw answer
    or reason for anything unexpected; None keeps the previous detail.
    """

    campaign: str
    ids: Sequence[int]
    state: State
    at: float
    record_ids: Sequence[int | None] | None = None
    in_call: bool = False
    answer_lost: bool = False
    detail: str | None = None
    run: bool = False
    """``ids`` ascend and are every pending record of the campaign from the first to the last
    (a batch of fresh ids): the journal may update them by range. Checked, never trusted."""
    records: Sequence[tuple[int, int]] = ()
    """``(key, record id)`` of each record removed, for keys that match several records (phone
    numbers): kept in ``removed_records`` whatever the key's state (a number in a call may have
    removed siblings)."""


class JournalRecord(NamedTuple):
    """Everything the journal knows of one record (see :mod:`bulkremove.journal.schema`)."""

    campaign: str
    customer_id: int
    state: State
    record_id: int | None
    attempts: int
    first_attempt_at: float | None
    last_attempt_at: float | None
    first_call_at: float | None
    answer_lost: bool
    detail: str | None
