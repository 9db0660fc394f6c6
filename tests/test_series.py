"""The series of a run: samples into buckets, bounded in number, counts kept whole."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bulkremove.journal import Journal
from bulkremove.series import COUNTS, Series
from bulkremove.tally import Tally


def test_increases_go_to_the_bucket_of_their_time() -> None:
    series = Series()
    series.add(0.2, {"removed": 10, "requests": 1}, {"rate": 5.0, "in_call": 0})
    series.add(0.9, {"removed": 30, "requests": 2}, {"rate": 4.0, "in_call": 3})
    series.add(2.5, {"removed": 31, "requests": 3, "throttled": 1}, {"rate": 2.0, "in_call": 1})
    first, third = series.buckets()
    assert (first.index, first.counts) == (0, {"removed": 30, "requests": 2})
    assert first.gauges == {"rate": 4.0, "in_call": 3}
    assert (third.index, third.counts) == (2, {"removed": 1, "requests": 1, "throttled": 1})


def test_a_long_run_is_regrouped_into_wider_buckets() -> None:
    series = Series(max_buckets=10)
    for second in range(100):
        series.add(second + 0.5, {"requests": second + 1}, {})
    assert series.width == 16.0
    buckets = series.buckets()
    assert len(buckets) <= 10
    assert [b.counts["requests"] for b in buckets] == [16] * 6 + [4]
    regrouped, changed = series.take_changes()
    assert regrouped and changed == buckets
    series.add(100.5, {"requests": 101}, {})
    assert series.take_changes() == (False, [buckets[-1]])


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.floats(0, 50), st.integers(0, 20), st.floats(0, 3)), min_size=1, max_size=60
    ),
    most=st.integers(2, 12),
)
def test_counts_are_kept_whole_and_buckets_bounded(
    steps: list[tuple[float, int, float]], most: int
) -> None:
    series = Series(max_buckets=most)
    at, removed, waited = 0.0, 0, 0.0
    for gap, ids, wait in steps:
        at, removed, waited = at + gap, removed + ids, waited + wait
        series.add(at, {"removed": removed, "retry_wait_s": waited}, {})
    buckets = series.buckets()
    assert len(buckets) <= most
    assert sum(b.counts.get("removed", 0) for b in buckets) == removed
    assert abs(sum(b.counts.get("retry_wait_s", 0) for b in buckets) - waited) < 1e-6
    assert all(b.index * series.width <= at for b in buckets)
    assert [b.index for b in buckets] == sorted({b.index for b in buckets})


def test_the_tally_stores_each_runs_buckets(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    now = [0.0]
    with Journal.create(path, {"campaign": "00001"}) as journal:
        for start in (1000.0, 2000.0):
            tally = Tally(journal, clock=lambda: now[0], wall_clock=lambda start=start: start)
            tally.series = Series(max_buckets=4)
            done = [0]
            tally.figures = lambda done=done: ({"removed": done[0], "requests": 1}, {"rate": 2.0})
            for _ in range(10):
                now[0] += 1.0
                done[0] += 5
                tally.write()
            now[0] = 0.0
        rows = journal.series()
        assert journal.get_meta("requests") == 2
    for run in (1, 2):
        mine = [row for row in rows if row["run"] == run]
        assert sum(row["removed"] for row in mine) == 50
        assert len(mine) <= 4
        assert {row["width"] for row in mine} == {4.0}
        assert [row["at"] for row in mine] == [1000.0 * run + 4.0 * i for i in range(3)]
    assert set(rows[0]) >= set(COUNTS)
