"""Adaptive sending against a rate-limited sandbox: it slows down, pauses, and recovers."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from e2e import SandboxProcess, run_cli, sandbox, write_ids


def rates(stderr: str) -> list[tuple[float, float, str]]:
    found = re.findall(r"rate_changed .*?new=([\d.]+) old=([\d.]+) reason=(\w+)", stderr)
    return [(float(new), float(old), reason) for new, old, reason in found]


def lift_limit_later(server: SandboxProcess, after: float, stop: threading.Event) -> None:
    """Lift the server's rate limit ``after`` seconds past its first throttled request."""
    while server.stats()["by_status"].get("429", 0) == 0:
        if stop.wait(0.05):
            return
    if not stop.wait(after):
        server.post("/_sandbox/faults", {"rate_limit": None})


def test_slows_down_under_429_and_keeps_throttling_rare(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 601))
    with sandbox("--campaign", "00001=1-600", "--rate-limit", "20", "--rate-burst", "3") as srv:
        done = run_cli(
            srv, ids, "--max-ids-per-request", "10", "--rate", "80", "--concurrency", "4",
            "--log-level", "debug", "--snapshot", "off",
            cwd=tmp_path,
        )  # fmt: skip
        stats = srv.stats()
    assert done.returncode == 0, done.stderr
    changes = rates(done.stderr)
    downs = [c for c in changes if c[0] < c[1]]
    assert downs, "the rate was lowered"
    assert all(reason == "ThrottledError" for _, _, reason in downs)
    assert min(new for new, _, _ in changes) < 25, "it came down near the server's limit"
    throttled = stats["by_status"].get("429", 0)
    assert throttled <= 15, f"{throttled} throttled of {stats['requests']}"
    assert stats["requests"] - throttled == 60


def test_recovers_when_the_server_stops_throttling(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 801))
    with sandbox("--campaign", "00001=1-800", "--rate-limit", "10", "--rate-burst", "1") as srv:
        # The limit is lifted while the run goes on; the rate must climb back.
        stop = threading.Event()
        lift = threading.Thread(target=lift_limit_later, args=(srv, 2.0, stop))
        lift.start()
        try:
            done = run_cli(
                srv, ids, "--max-ids-per-request", "10", "--rate", "40", "--concurrency", "4",
                "--log-level", "debug", "--snapshot", "off",
                cwd=tmp_path,
            )  # fmt: skip
        finally:
            stop.set()
            lift.join()
    assert done.returncode == 0, done.stderr
    changes = rates(done.stderr)
    lowest = min(range(len(changes)), key=lambda i: changes[i][0])
    assert any(new > changes[lowest][0] for new, _, _ in changes[lowest:]), "it climbed back"


def told_100(tmp_path: Path, ids: int, limit: str) -> dict[str, Any]:
    """A run of ``ids`` told 100 requests/s against a bucket of one at ``limit``; its stats."""
    source = write_ids(tmp_path / "ids.txt", range(1, ids + 1))
    with sandbox("--campaign", f"00001=1-{ids}", "--rate-limit", limit, "--rate-burst", "1") as srv:
        done = run_cli(
            srv, source, "--max-ids-per-request", "10", "--rate", "100", "--concurrency", "8",
            "--snapshot", "off", cwd=tmp_path,
        )  # fmt: skip
        stats = srv.stats()
    assert done.returncode == 0, done.stderr
    assert stats["requests"] - stats["by_status"].get("429", 0) == ids // 10
    return stats


def test_a_short_retry_after_costs_a_request_not_a_pause(tmp_path: Path) -> None:
    # One request per second allowed: the rate comes down in a few steps, each one throttled
    # request, with no second of silence for every worker.
    assert told_100(tmp_path, 60, "1")["by_status"].get("429", 0) <= 8


def test_a_long_retry_after_pauses_every_worker(tmp_path: Path) -> None:
    # One request in two seconds: the server asks for 2 s, longer than a paced 429 is let
    # off with, so every worker waits; eight would each hammer it without a shared pause.
    stats = told_100(tmp_path, 30, "0.5")
    assert stats["by_status"].get("429", 0) <= 4
    assert stats["max_requests_in_1s"] <= 3


def test_a_stated_policy_is_paced_to_without_a_search(tmp_path: Path) -> None:
    # Told 50 times the limit, but the server states it: no search, so next to nothing is
    # throttled (bar, on a loaded machine, a few requests sent before the first answer came
    # back); a search from 50 R costs many more.
    ids = write_ids(tmp_path / "ids.txt", range(1, 401))
    limits = ("--rate-limit", "20", "--rate-burst", "2", "--rate-headers", "ietf")
    with sandbox("--campaign", "00001=1-400", *limits) as srv:
        done = run_cli(
            srv, ids, "--max-ids-per-request", "10", "--rate", "1000", "--concurrency", "8",
            "--snapshot", "off", cwd=tmp_path,
        )  # fmt: skip
        stats = srv.stats()
    assert done.returncode == 0, done.stderr
    assert stats["by_status"]["200"] == 40
    assert stats["by_status"].get("429", 0) <= 3
    assert stats["sending_s"] >= 1.7, "40 requests at 20/s, two of them the bucket's burst"


def test_a_retry_after_on_a_good_answer_pauses_every_worker(tmp_path: Path) -> None:
    # A bucket of one at 5/s that says Retry-After: 1 on each 200 leaving it empty: honoured,
    # the four requests take three seconds, where the limit alone would allow 0.6.
    ids = write_ids(tmp_path / "ids.txt", range(1, 41))
    limits = ("--rate-limit", "5", "--rate-burst", "1", "--rate-headers", "retry")
    with sandbox("--campaign", "00001=1-40", *limits) as srv:
        done = run_cli(
            srv, ids, "--max-ids-per-request", "10", "--rate", "100", "--concurrency", "8",
            "--snapshot", "off", cwd=tmp_path,
        )  # fmt: skip
        stats = srv.stats()
    assert done.returncode == 0, done.stderr
    assert stats["by_status"]["200"] == 4
    assert stats["by_status"].get("429", 0) <= 1
    assert stats["sending_s"] >= 2.9
