"""The metrics file's text, its atomic write, and the last success carried over."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bulkremove.files import write_atomically
from bulkremove.metrics import (
    MetricsFile,
    outcome_label,
    read_last_success,
    render,
    request_outcomes,
)


def test_render_is_the_prometheus_text_format() -> None:
    text = render(
        records={"00001": {"removed": 3, "pending": 0}},
        requests={"answered": 2, "throttled": 1},
        duration_s=1.5,
        exit_code=4,
        now=1_700_000_000.25,
        last_success=1_699_000_000.0,
    )
    lines = text.splitlines()
    assert "# TYPE bulkremove_records gauge" in lines
    assert 'bulkremove_records{job="bulkremove",campaign="00001",state="removed"} 3' in lines
    assert 'bulkremove_requests{job="bulkremove",outcome="throttled"} 1' in lines
    assert 'bulkremove_duration_seconds{job="bulkremove"} 1.5' in lines
    assert 'bulkremove_exit_code{job="bulkremove"} 4' in lines
    assert 'bulkremove_running{job="bulkremove"} 0' in lines
    assert 'bulkremove_last_run_timestamp_seconds{job="bulkremove"} 1700000000.25' in lines
    assert 'bulkremove_last_success_timestamp_seconds{job="bulkremove"} 1699000000' in lines
    assert text.endswith("\n")
    # Every sample follows its HELP and TYPE lines.
    names = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(names) == len(set(names)) == 7


def test_a_running_file_has_no_exit_code_and_a_first_run_no_last_success() -> None:
    text = render(
        records={}, requests={}, duration_s=0.0, exit_code=None, now=1.0, last_success=None
    )
    assert 'bulkremove_running{job="bulkremove"} 1' in text.splitlines()
    assert "bulkremove_exit_code" not in text
    assert "bulkremove_last_success" not in text


def test_outcomes_are_labels() -> None:
    assert outcome_label("ThrottledError") == "throttled"
    assert outcome_label("UrlTooLongError") == "url_too_long"
    assert request_outcomes(10, {"ServerError": 2, "ThrottledError": 3}) == {
        "answered": 5, "server": 2, "throttled": 3,
    }  # fmt: skip


def test_last_success_is_read_back_and_kept_unless_the_run_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "m.prom"
    assert read_last_success(str(path)) is None
    path.write_text("# HELP x\nbulkremove_last_success_timestamp_seconds 1234.5\n")
    assert read_last_success(str(path)) == 1234.5

    MetricsFile(str(path)).write(records={}, exit_code=4)
    assert read_last_success(str(path)) == 1234.5
    MetricsFile(str(path)).write(records={}, exit_code=0)
    latest = read_last_success(str(path))
    assert latest is not None and latest > 1234.5


def test_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "m.prom"
    path.write_text("old\n")
    before = os.stat(path).st_ino
    write_atomically(str(path), b"new\n")
    assert path.read_text() == "new\n"
    assert os.stat(path).st_ino != before, "a new file was renamed over the old one"
    assert [p.name for p in tmp_path.iterdir()] == ["m.prom"]


def test_a_metrics_folder_that_does_not_exist_is_refused_before_the_run(tmp_path: Path) -> None:
    from bulkremove.errors import ConfigError

    with pytest.raises(ConfigError, match="does not exist"):
        MetricsFile(str(tmp_path / "nowhere" / "m.prom")).check()


def test_every_series_carries_the_job_label() -> None:
    text = render(
        records={"00001": {"removed": 3}},
        requests={"answered": 2},
        duration_s=1.5,
        exit_code=0,
        now=2.0,
        last_success=2.0,
        job="nightly-eu",
    )
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(samples) == 7
    assert all('{job="nightly-eu"' in line for line in samples), samples
    assert 'bulkremove_records{job="nightly-eu",campaign="00001",state="removed"} 3' in samples
    assert 'bulkremove_exit_code{job="nightly-eu"} 0' in samples


def test_a_job_label_is_escaped_and_the_last_success_read_back(tmp_path: Path) -> None:
    text = render(
        records={}, requests={}, duration_s=0.0, exit_code=0, now=5.0, last_success=5.0,
        job='a"b\\c\nd',
    )  # fmt: skip
    assert 'bulkremove_running{job="a\\"b\\\\c\\nd"} 0' in text.splitlines()
    path = tmp_path / "m.prom"
    path.write_text(text)
    assert read_last_success(str(path)) == 5.0
    MetricsFile(str(path), job="eu").write(records={}, exit_code=4)
    assert read_last_success(str(path)) == 5.0
    assert 'bulkremove_exit_code{job="eu"} 4' in path.read_text().splitlines()
