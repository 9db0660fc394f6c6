"""The start-up tricks that change when work happens, without changing what happens."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest

from bulkremove import startup


@pytest.fixture
def imported(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What the background import was asked for."""
    calls: list[list[str]] = []

    def record(modules: Sequence[str]) -> None:
        calls.append(list(modules))

    monkeypatch.setattr(startup, "_import_quietly", record)
    return calls


def _join_threads() -> None:
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.daemon:
            thread.join(timeout=5)


def test_then_import_starts_once_every_item_is_taken(imported: list[list[str]]) -> None:
    items = startup.then_import([1, 2, 3], ["json", "bulkremove.no_such_module"])
    assert next(items) == 1
    assert next(items) == 2
    assert next(items) == 3
    _join_threads()
    assert imported == []
    assert list(items) == []
    _join_threads()
    # json is imported already; only what is missing goes to the thread
    assert imported == [["bulkremove.no_such_module"]]


def test_then_import_starts_nothing_for_a_read_that_fails(imported: list[list[str]]) -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="disk"):
        list(startup.then_import(failing(), ["bulkremove.no_such_module"]))
    _join_threads()
    assert imported == []


def test_then_import_starts_nothing_when_all_is_imported(imported: list[list[str]]) -> None:
    assert list(startup.then_import([7], ["json"])) == [7]
    _join_threads()
    assert imported == []


def test_import_quietly_goes_past_a_module_that_fails() -> None:
    startup._import_quietly(["bulkremove.no_such_module", "json"])  # raises nothing
