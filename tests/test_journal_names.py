"""Default journal names: unique for runs started together, sorted as their start times."""

from __future__ import annotations

from pathlib import Path

from bulkremove.journal import Journal
from bulkremove.prepared import default_journal_path
from bulkremove.settings import Settings

NOW = 1_796_620_373.25  # 2026-12-07T05:12:53.250Z


def test_two_runs_started_in_the_same_second_get_journals_of_their_own(tmp_path: Path) -> None:
    settings = Settings(campaign="00001", journal_dir=str(tmp_path))
    first = default_journal_path(settings, NOW)
    second = default_journal_path(settings, NOW)
    assert first != second
    for path in (first, second):
        Journal.create(path, settings.public()).close()
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == sorted([first.name, second.name])


def test_names_read_as_and_sort_by_their_start_time(tmp_path: Path) -> None:
    settings = Settings(campaign="00001", journal_dir=str(tmp_path))
    name = default_journal_path(settings, NOW).name
    assert name.startswith("20261207T051253.250Z-00001-") and name.endswith(".sqlite")
    assert default_journal_path(Settings(), NOW).name.startswith("20261207T051253.250Z-multi-")
    times = [NOW - 86400, NOW - 1, NOW, NOW + 0.01, NOW + 0.99, NOW + 60, 0.0]
    names = [default_journal_path(settings, t).name for t in times]
    assert [n for _, n in sorted(zip(times, names, strict=True))] == sorted(names)
