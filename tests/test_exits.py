"""The exit codes, mapped from an error's class and from where it happened (pure, no sockets)."""

from __future__ import annotations

import pytest

from bulkremove.errors import (
    AuthenticationError,
    ConfigError,
    EmptyInputError,
    InputError,
    JournalError,
    RefusedError,
    ServerError,
    TlsError,
    UsageError,
)
from bulkremove.exits import (
    CODES,
    EXIT_EMPTY,
    EXIT_FATAL_API,
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_JOURNAL_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Where,
    exit_code_for,
    exit_code_for_error,
    mark_after_sending_started,
    where_raised,
)

CASES = [
    (UsageError("x"), EXIT_USAGE),
    (ConfigError("x"), EXIT_USAGE),
    (InputError("x"), EXIT_USAGE),
    (RefusedError("x"), EXIT_USAGE),
    (EmptyInputError("x"), EXIT_EMPTY),
    (AuthenticationError("x", status=401), EXIT_FATAL_API),
    (TlsError("x"), EXIT_FATAL_API),
    (KeyboardInterrupt(), EXIT_INTERRUPTED),
    (ServerError("x", status=500), EXIT_INTERNAL),  # retried by the engine; escaping is a bug
    (RuntimeError("x"), EXIT_INTERNAL),
    (ValueError("x"), EXIT_INTERNAL),
]


def test_the_codes_are_pinned() -> None:
    assert (EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_FATAL_API) == (0, 1, 2, 3)
    assert (EXIT_INCOMPLETE, EXIT_JOURNAL_FAILED, EXIT_EMPTY, EXIT_INTERRUPTED) == (4, 5, 6, 130)


@pytest.mark.parametrize("where", list(Where))
@pytest.mark.parametrize(("exc", "code"), CASES)
def test_each_class_keeps_its_code_wherever_it_happened(
    exc: BaseException, code: int, where: Where
) -> None:
    assert exit_code_for_error(exc, where) == code


def test_a_journal_error_is_a_refusal_before_sending_and_its_own_code_after() -> None:
    assert exit_code_for_error(JournalError("x"), Where.BEFORE_SENDING) == EXIT_USAGE
    assert exit_code_for_error(JournalError("x"), Where.AFTER_SENDING_STARTED) == 5


def test_every_place_has_a_table() -> None:
    assert set(CODES) == set(Where)


def test_an_unmarked_error_happened_before_sending() -> None:
    exc = JournalError("locked")
    assert where_raised(exc) is Where.BEFORE_SENDING
    assert exit_code_for_error(exc) == exit_code_for_error(exc, Where.BEFORE_SENDING)


def test_a_marked_error_happened_after_sending_started_and_is_mapped_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exc = JournalError("disk full")
    mark_after_sending_started(exc)
    assert where_raised(exc) is Where.AFTER_SENDING_STARTED
    # the mapping reads the place from the mark: a table of its own for after sending
    after = ((JournalError, 99),)
    monkeypatch.setitem(CODES, Where.AFTER_SENDING_STARTED, after)  # type: ignore[arg-type]
    assert exit_code_for_error(exc) == 99
    assert exit_code_for_error(JournalError("locked")) == EXIT_USAGE
    assert exit_code_for_error(exc, Where.BEFORE_SENDING) == EXIT_USAGE


def test_marking_a_group_marks_each_exception_in_it() -> None:
    inner = JournalError("disk full")
    nested = ExceptionGroup("outer", [ExceptionGroup("inner", [inner]), ValueError("v")])
    mark_after_sending_started(nested)
    assert where_raised(inner) is Where.AFTER_SENDING_STARTED
    assert where_raised(nested.exceptions[1]) is Where.AFTER_SENDING_STARTED


@pytest.mark.parametrize(
    ("totals", "code"),
    [
        ({"removed": 3, "not_found": 1, "in_call": 0, "failed": 0, "pending": 0}, EXIT_OK),
        ({"removed": 0, "not_found": 0, "in_call": 0, "failed": 0, "pending": 0}, EXIT_OK),
        ({"removed": 3, "not_found": 0, "in_call": 1, "failed": 0, "pending": 0}, 4),
        ({"removed": 3, "not_found": 0, "in_call": 0, "failed": 2, "pending": 0}, 4),
        ({"removed": 3, "not_found": 0, "in_call": 0, "failed": 0, "pending": 5}, 4),
    ],
)
def test_a_finished_run_is_ok_only_with_nothing_left(totals: dict[str, int], code: int) -> None:
    assert exit_code_for(totals) == code
