"""``python -m benchmarks`` still runs, at tiny sizes; the figures themselves are not checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [
    "## end-to-end and floor, side by side",
    "floor: bare aiohttp loop",
    "floor as a whole process (bare_client)",
    "## latency",
    "end-to-end / floor (medians)",
    "## naive: sequential",
    "one id per request (sample of",
    "full batches one at a time",
    "## ingest",
    "## memory",
    "peak RSS",
    "## retry efficiency",
    "requests / ideal",
    "## targets",
    "by the sandbox's latency per request",
]


def benchmark(*args: str, timeout: float) -> str:
    """``python -m ARGS`` from the project root; its output, once it exited 0."""
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_benchmark_runs_every_section_at_tiny_sizes(tmp_path: Path) -> None:
    stdout = benchmark(
        "benchmarks", "--quick", "--ids", "3000", "--big-ids", "5000", "--curl-sample", "2",
        "--work-dir", str(tmp_path), timeout=110,
    )  # fmt: skip
    for section in SECTIONS:
        assert section in stdout, section


def test_pacing_benchmark_runs_for_a_second() -> None:
    stdout = benchmark(
        "benchmarks.throttle", "--seconds", "1", "--factors", "4", "--e2e-ids", "2000",
        "--e2e-limit", "50", timeout=60,
    )  # fmt: skip
    assert "client --rate" in stdout
    assert "end to end: 2000 ids, limit 50/s" in stdout


def test_packing_benchmark_counts_both_forms() -> None:
    stdout = benchmark("benchmarks.packing", "--ids", "1000", timeout=30)
    assert stdout.count(" raw ") == 3 and stdout.count(" encoded ") == 3
