"""A timed child process, and ``bulkremove run`` as one against a sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from benchmarks._common import fetch_stats
from benchmarks.inputs import CAMPAIGN, MAX_IDS, MAX_URL_LENGTH, RATE


@dataclass
class ProcessRun:
    code: int
    wall_s: float
    cpu_s: float
    max_rss_mib: float
    events: dict[str, float] = field(default_factory=dict)
    """Seconds from the process start to the first log event of each name."""
    stderr: str = ""
    server_cpu_s: float | None = None


def bulkremove_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULKREMOVE_")}
    env.update(BULKREMOVE_USERNAME="api_user", BULKREMOVE_PASSWORD="api_pass")
    return env


def gnu_time() -> str | None:
    """GNU time, whose ``%M`` is the peak RSS of the command alone, if installed."""
    path = shutil.which("time") or "/usr/bin/time"
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return path if "GNU" in done.stdout + done.stderr else None


GNU_TIME = gnu_time()
RSS_SOURCE = "GNU time %M" if GNU_TIME else "VmHWM polled"
# Not wait4's ru_maxrss: Linux carries a parent's peak into a forked child's figure, and this
# process holds the big id lists.


def run_process(
    command: list[str], folder: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> ProcessRun:
    """Run ``command`` to its end: wall time, CPU time (its own and its children's), peak RSS."""
    rss_file = folder / "maxrss.txt"
    rss_file.unlink(missing_ok=True)
    prefix = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] if GNU_TIME else []
    with tempfile.TemporaryFile("w+", dir=folder) as err:
        started_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(
            [*prefix, *command], stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=cwd or folder
        )
        peak_kib = 0
        while True:
            pid, status, usage = os.wait4(process.pid, 0 if GNU_TIME else os.WNOHANG)
            if pid:
                break
            peak_kib = max(peak_kib, vm_hwm_kib(process.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
    if GNU_TIME:
        lines = rss_file.read_text().split() if rss_file.exists() else []
        peak_kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    events: dict[str, float] = {}
    for line in text.splitlines():
        try:
            event = orjson.loads(line)
            at = datetime.fromisoformat(event["timestamp"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        events.setdefault(str(event.get("event")), at - started_at)
    return ProcessRun(
        process.returncode, wall, usage.ru_utime + usage.ru_stime, peak_kib / 1024, events, text
    )


def vm_hwm_kib(pid: int) -> int:
    """The process's peak RSS so far (Linux), 0 where /proc is missing."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def bulkremove_run(
    base: str, source: Path, folder: Path, name: str, concurrency: int, *extra: str
) -> ProcessRun:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{folder / name}.sqlite{suffix}").unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "bulkremove", "run", "--yes", "--base-url", base,
        "--campaign", CAMPAIGN, "--input", str(source),
        "--journal", f"{name}.sqlite", "--report", f"{name}.json",
        "--max-url-length", str(MAX_URL_LENGTH), "--max-ids-per-request", str(MAX_IDS),
        "--concurrency", str(concurrency), "--rate", str(RATE), "--log-format", "json", *extra,
    ]  # fmt: skip
    return run_process(command, folder, bulkremove_env())


def check_run(run: ProcessRun, what: str) -> None:
    if run.code != 0:
        raise RuntimeError(f"{what}: bulkremove exited {run.code}:\n{run.stderr[-3000:]}")


def removed_everything(base: str, count: int, what: str) -> dict[str, object]:
    stats = asyncio.run(fetch_stats(base.removesuffix("/api")))
    if stats.get("remaining") != {CAMPAIGN: 0} or stats.get("ids_removed") != count:
        raise RuntimeError(f"{what}: the sandbox was not emptied: {stats}")
    return stats
