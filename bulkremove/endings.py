"""The words a run ends with, when it does not simply finish: what went wrong and what to do.

Each is built while the journal is still open, from the journal and the error, and read by
people: the command line prints them as one line.
"""

from __future__ import annotations

from pathlib import Path

from bulkremove.errors import FatalApiError, JournalError
from bulkremove.exits import EXIT_JOURNAL_FAILED, mark_after_sending_started
from bulkremove.journal import Journal
from bulkremove.logs import get_logger
from bulkremove.plan import Plan


def journal_failed(journal: Journal, path: Path, exc: JournalError) -> JournalError:
    """The error of a journal that failed after sending started, with what to do; the state
    is recorded in the journal when it still takes a write."""
    try:
        failure = {"state": "journal_failed", "exit_code": EXIT_JOURNAL_FAILED}
        journal.set_meta_after_failure(failure)
        recorded = "the journal says journal_failed"
    except JournalError:
        recorded = "the journal could not record that"
    get_logger("run").error("journal_failed", error=str(exc))
    failed = JournalError(
        f"{exc}; requests had been sent, so records may be removed that the journal does not "
        f"show yet ({recorded}); free the disk, then: bulkremove run --resume {path}"
    )
    mark_after_sending_started(failed)
    return failed


def failed_reason(journal: Journal) -> str | None:
    """The reason one of the ``failed`` records gives (its ``detail``), shortened."""
    first = next(iter(journal.records_in_states(("failed",))), None)
    if first is None or not first.detail:
        return None
    detail = " ".join(first.detail.split())
    return detail if len(detail) <= 120 else detail[:117] + "..."


def aborted_line(fatal: FatalApiError, plan: Plan) -> str:
    """Why a fatal answer aborted the run, from where, and what to check."""
    source = f"answer from {plan.host}: " if fatal.status is not None else ""
    hint = f"; {fatal.hint}" if fatal.hint else ""
    then = f"; once it answers: bulkremove run --resume {plan.journal}" if fatal.resumable else ""
    return f"aborted: {source}{fatal}{hint}; nothing more was sent{then}"
