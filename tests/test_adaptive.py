"""Adaptive sending against a rate-limited sandbox: it slows down, pauses, and recovers."""

from __future__ import annotations

import re
import threading
from pathlib import Path

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


def test_retry_after_pauses_every_worker(tmp_path: Path) -> None:
    # One request per second allowed; eight workers would each hammer it without a shared pause.
    ids = write_ids(tmp_path / "ids.txt", range(1, 61))
    with sandbox("--campaign", "00001=1-60", "--rate-limit", "1", "--rate-burst", "1") as srv:
        done = run_cli(
            srv, ids, "--max-ids-per-request", "10", "--rate", "100", "--concurrency", "8",
            "--snapshot", "off", cwd=tmp_path,
        )  # fmt: skip
        stats = srv.stats()
    assert done.returncode == 0, done.stderr
    assert stats["requests"] - stats["by_status"].get("429", 0) == 6
    assert stats["by_status"].get("429", 0) <= 8
    assert stats["max_requests_in_1s"] <= 3
