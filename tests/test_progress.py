"""Progress figures (on a fake clock), and the ``progress`` events of a run without a terminal."""

from __future__ import annotations

import json
from pathlib import Path

from e2e import run_cli, sandbox, write_ids

from bulkremove.progress import ProgressMeter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pace_is_measured_over_the_recent_window_and_gives_the_time_left() -> None:
    clock = Clock()
    meter = ProgressMeter(1000, window=10.0, clock=clock)
    first = meter.measure(removed=0, not_found=0, failed=0, in_call=0, requests=0, rate=10.0)
    assert first.eta_s is None, "no pace yet, no guess"
    assert first.pending == 1000
    clock.now += 5
    p = meter.measure(removed=80, not_found=20, failed=0, in_call=5, requests=3, rate=10.0)
    assert p.ids_per_s == 20.0
    assert p.pending == 895
    assert p.eta_s == 900 / 20.0  # pending and waiting on calls are both left
    assert p.elapsed_s == 5.0
    # 20 s later at a faster pace: the old samples have left the window.
    for _ in range(4):
        clock.now += 5
        p = meter.measure(
            removed=p.removed + 200, not_found=20, failed=0, in_call=0, requests=9, rate=10.0
        )
    assert p.ids_per_s == 40.0
    assert p.done == 900


def test_the_final_sample_counts_records_left_in_a_call_as_done() -> None:
    clock = Clock()
    meter = ProgressMeter(10, clock=clock)
    clock.now += 1
    final = meter.measure(
        removed=7, not_found=1, failed=0, in_call=2, pending=0, requests=2, rate=5.0, final=True
    )
    assert final.done == 10
    assert final.eta_s == 0.0
    assert final.fields()["in_call"] == 2


def test_without_a_terminal_progress_events_carry_the_figures(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 601))
    with sandbox("--campaign", "00001=1-500", "--latency", "0.05:0.05") as server:
        done = run_cli(
            server, ids, "--max-ids-per-request", "10", "--rate", "40",
            "--progress-interval", "0.25", "--log-format", "json",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    progress = [e for e in events if e["event"] == "progress"]
    assert len(progress) >= 3, "60 requests at 40/s take 1.5 s: an event every 0.25 s"
    for event in progress:
        assert {"removed", "not_found", "in_call", "failed", "pending", "total", "ids_per_s",
                "rate", "eta_s", "requests"} <= set(event)  # fmt: skip
        assert event["total"] == 600
        assert event["removed"] + event["not_found"] + event["pending"] + event["in_call"] == 600
    assert progress[-1]["removed"] > progress[0]["removed"]
    assert any(e["ids_per_s"] > 0 and e["eta_s"] is not None for e in progress)
    assert progress[0]["rate"] == 39.6  # 0.99 of --rate 40: the adaptive headroom


def test_retries_are_counted_under_four_names_and_rates_are_rounded() -> None:
    clock = Clock()
    meter = ProgressMeter(100, clock=clock)
    clock.now += 2
    errors = {
        "ThrottledError": 2,
        "ServerError": 3,
        "BadAnswerError": 1,
        "RequestTimeoutError": 4,
        "CannotConnectError": 1,
        "ConnectionLostError": 2,
    }
    p = meter.measure(
        removed=40, not_found=5, failed=0, in_call=0, requests=9, rate=4.29888,
        errors=errors, paused_s=1.23456,
    )  # fmt: skip
    assert (p.throttled, p.server_errors, p.timeouts, p.connection_errors) == (2, 4, 4, 3)
    fields = p.fields()
    assert fields["rate"] == 4.3
    assert fields["paused_s"] == 1.2
    retries = ("throttled", "server_errors", "timeouts", "connection_errors")
    assert [fields[k] for k in retries] == [2, 4, 4, 3]
    assert p.percent == 45.0


def test_the_display_shows_retries_pause_elapsed_time_and_percent_done() -> None:
    from rich.console import Console

    from bulkremove.display import LiveDisplay

    clock = Clock()
    meter = ProgressMeter(200, clock=clock)
    clock.now += 75
    p = meter.measure(
        removed=50, not_found=0, failed=0, in_call=0, requests=20, rate=4.29888,
        errors={"ThrottledError": 3, "ServerError": 1}, paused_s=12.34,
    )  # fmt: skip
    console = Console(width=160, record=True, color_system=None)
    console.print(LiveDisplay(console).render(p))
    text = console.export_text()
    assert "rate 4.3 req/s" in text
    assert "4.29888" not in text
    assert "25%" in text
    assert "elapsed 1 min 15 s" in text
    assert "throttled 3" in text
    assert "server errors 1" in text
    assert "timeouts 0" in text
    assert "connection errors 0" in text
    assert "paused 12.3 s" in text


def test_progress_events_count_throttling_errors_and_pauses(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 61))
    faults = ("--rate-limit", "5", "--rate-burst", "2", "--error-share", "0.3", "--seed", "3")
    with sandbox("--campaign", "00001=1-60", *faults) as server:
        done = run_cli(
            server, ids, "--max-ids-per-request", "10", "--rate", "40",
            "--progress-interval", "0.2", "--log-format", "json",
            "--no-adaptive",  # every Retry-After pauses every worker then
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    last = [e for e in events if e["event"] == "progress"][-1]
    assert last["throttled"] > 0
    assert last["server_errors"] > 0
    assert last["paused_s"] > 0
    assert last["timeouts"] == 0
    assert last["connection_errors"] == 0
