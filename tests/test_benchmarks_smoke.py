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


def test_benchmark_runs_every_section_at_tiny_sizes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--ids", "3000", "--big-ids", "5000",
         "--curl-sample", "2", "--work-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for section in SECTIONS:
        assert section in done.stdout, section


def test_pacing_benchmark_runs_for_a_second(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.throttle", "--seconds", "1", "--factors", "4",
         "--e2e-ids", "2000", "--e2e-limit", "50"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "client --rate" in done.stdout
    assert "end to end: 2000 ids, limit 50/s" in done.stdout
