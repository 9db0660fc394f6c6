"""The exit codes of a run, and the mapping of a run's end to them.

    0    every record removed or not found
    1    internal error (a bug)
    2    refused before anything was sent: usage, configuration, input, journal, max_delete,
         no confirmation, a selection whose listing passes never agreed
    3    aborted by a fatal API answer (401, 403, unknown campaign, TLS), a server that is down,
         or a selection's listing that failed
    4    finished with records left in_call, failed or pending
    5    the journal failed after sending started: records may be removed that it does not show
    6    the input held no ids (nothing sent); allow_empty makes that a success
    7    verify found disagreements: the API contradicts the journal (also a clean run with
         ``--verify``)
    130  interrupted by SIGINT or SIGTERM
    141  the reader of stdout went away (``export ... | head``), as a shell's SIGPIPE

An error is mapped from its class and from where it happened: before any request was sent, or
after sending started. A journal error before sending is a refusal (2, nothing sent); after
sending started it is 5, since records may have been removed that the journal does not show.
A verification (``verify``, ``run --verify``) that cannot ask the API ends as a run would: 3 for
a fatal answer or a server that stays down, 2 for a journal or settings it cannot use.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Mapping

from bulkremove.errors import EmptyInputError, FatalApiError, JournalError, UsageError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_FATAL_API = 3
EXIT_INCOMPLETE = 4
EXIT_JOURNAL_FAILED = 5
EXIT_EMPTY = 6
EXIT_DISAGREE = 7
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141

MEANINGS: Mapping[int, str] = {
    EXIT_OK: "every record removed or not found",
    EXIT_INTERNAL: "internal error",
    EXIT_USAGE: "refused before anything was sent",
    EXIT_FATAL_API: "aborted by the API, or the server was down",
    EXIT_INCOMPLETE: "finished with records left in_call, failed or pending",
    EXIT_JOURNAL_FAILED: "the journal failed after sending started",
    EXIT_EMPTY: "the input held no ids",
    EXIT_DISAGREE: "verify found the API contradicting the journal",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_CLOSED_PIPE: "the reader of stdout went away",
}
"""Each exit code in a few words, as the table above says it (for the HTML report)."""


class Where(enum.Enum):
    """Where a run was when an error ended it."""

    BEFORE_SENDING = "before_sending"
    """Nothing was sent: reading settings, input or journal, planning, checks, consent."""
    AFTER_SENDING_STARTED = "after_sending_started"
    """The engine had started: requests may have been sent and records removed."""


# Per place, the first class an error is an instance of gives its code; anything else is a bug.
_BY_CLASS: tuple[tuple[type[BaseException], int], ...] = (
    (EmptyInputError, EXIT_EMPTY),
    (UsageError, EXIT_USAGE),
    (JournalError, EXIT_USAGE),
    (FatalApiError, EXIT_FATAL_API),
    (KeyboardInterrupt, EXIT_INTERRUPTED),
)
CODES: Mapping[Where, tuple[tuple[type[BaseException], int], ...]] = {
    Where.BEFORE_SENDING: _BY_CLASS,
    Where.AFTER_SENDING_STARTED: ((JournalError, EXIT_JOURNAL_FAILED), *_BY_CLASS),
}

# Set on an error that left the engine, so the mapping knows where it happened wherever the
# error is caught (the command line catches it far from the run).
_SENDING_MARK = "_bulkremove_after_sending_started"


def exit_code_for(totals: Mapping[str, int]) -> int:
    """The code of a finished run: 0 when every record is removed or not found, else 4."""
    left = totals["in_call"] + totals["failed"] + totals["pending"]
    return EXIT_OK if left == 0 else EXIT_INCOMPLETE


def exit_code_for_error(exc: BaseException, where: Where | None = None) -> int:
    """The code of a run that ended in ``exc`` raised at ``where`` (default: as marked)."""
    for kind, code in CODES[where or where_raised(exc)]:
        if isinstance(exc, kind):
            return code
    return EXIT_INTERNAL


def mark_after_sending_started(exc: BaseException) -> None:
    """Record on ``exc`` (and on each exception in it, for a group) that it ended a run after
    sending started."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            mark_after_sending_started(inner)
    # Exceptions without an instance dict (a few built-in ones) keep the default place.
    with contextlib.suppress(AttributeError):
        setattr(exc, _SENDING_MARK, True)


def where_raised(exc: BaseException) -> Where:
    """Where ``exc`` ended its run: after sending started if marked so, else before sending."""
    if getattr(exc, _SENDING_MARK, False):
        return Where.AFTER_SENDING_STARTED
    return Where.BEFORE_SENDING
