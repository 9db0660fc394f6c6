"""bulkremove's performance, measured side by side in one run against the sandbox.

    python -m benchmarks [--ids 1000000] [--big-ids 10000000] [--repeat 3] [--quick]

Every server is ``bulkremove sandbox`` in its own process, seeded with campaign ``00001`` holding
the ids being removed (7-digit ids from 1,000,001 up), and each measurement gets a fresh one.
Sections:

- ``end-to-end``: ``bulkremove run`` as a whole process (start-up, ingest of a shuffled id file,
  sending, report) with 8000-byte batches (``--max-url-length 8000 --max-ids-per-request 500``),
  concurrency 16 and ``--rate 1000000``; its JSON log events split the wall time into phases.
- ``floor``: a bare aiohttp loop in this process (no journal, no scheduler) sending the same
  batches, prebuilt, at the same concurrency; only the loop is timed. And the same as a whole
  process (``benchmarks.bare_client``: start-up, reading and sorting the id file, packing,
  sending), timed from spawn to exit like the end-to-end run.
- ``latency``: the end-to-end run and the loop alone again, at ``--latency-ids`` ids, against a
  sandbox that answers each request only after ``--latency`` seconds (as a real API takes its
  time): how the ratio moves once the server, not this machine's CPU, sets the pace.
- ``naive``: one id per request, sequentially (keep-alive aiohttp, and ``curl`` once per id when
  it is installed), extrapolated from a sample; and every full batch sequentially.
- ``ingest``: ``bulkremove.job.prepare_journal`` in a fresh process on a shuffled ``--big-ids``
  file (validation and dedupe included): ids/s and the journal's size on disk.
- ``memory``: the peak RSS of a whole ``bulkremove run`` of ``--big-ids`` ids, as the kernel
  counts it: GNU time's ``%M`` when ``/usr/bin/time`` is GNU time, else ``VmHWM`` polled.
- ``retry``: 2% of records in calls ending 1-4 s after the sandbox starts; requests per record
  against the ideal (defined in the output).

Traffic goes to 127.0.0.1 only. Input files go to a temporary folder unless ``--work-dir`` is
given, where they are kept and reused.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks._common import (
    Phase,
    cpu_seconds,
    fetch_stats,
    sandbox_command,
    send_all,
    start_server,
    stop_server,
    targets_for,
)
from bulkremove.batching import Packer, pack, records_path

PROJECT = Path(__file__).resolve().parent.parent
FIRST_ID = 1_000_001
CAMPAIGN = "00001"
MAX_URL_LENGTH = 8000
MAX_IDS = 500
RATE = 1_000_000
# Targets of the performance issue.
FLOOR_RATIO_MIN = 0.8
NAIVE_SPEEDUP_MIN = 50.0
INGEST_IDS_PER_S_MIN = 500_000
PEAK_RSS_MIB_MAX = 150
RETRY_OVERHEAD_MAX = 1.10


# --- inputs -------------------------------------------------------------------------------


def id_file(folder: Path, count: int, seed: int = 1) -> Path:
    """``count`` distinct ids from FIRST_ID up, shuffled, one per line; kept for reuse."""
    path = folder / f"ids-{count}-{seed}.txt"
    if not path.exists():
        ids = list(range(FIRST_ID, FIRST_ID + count))
        random.Random(seed).shuffle(ids)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as out:
            for start in range(0, count, 1 << 20):
                out.write("\n".join(map(str, ids[start : start + (1 << 20)])) + "\n")
        tmp.replace(path)
    return path


def full_batches(count: int) -> list[list[int]]:
    """The batches bulkremove sends for a fresh journal of these ids: ascending, full."""
    path = records_path("/api", CAMPAIGN)
    return list(pack(range(FIRST_ID, FIRST_ID + count), path, MAX_URL_LENGTH, MAX_IDS))


def batch_capacity() -> int:
    """Ids in one full request of 7-digit ids under the run's limits."""
    packer = Packer(records_path("/api", CAMPAIGN), MAX_URL_LENGTH, MAX_IDS)
    while packer.add(FIRST_ID):
        pass
    return len(packer)


def seeded(count: int, *extra: str) -> list[str]:
    return sandbox_command("--campaign", f"{CAMPAIGN}={FIRST_ID}-{FIRST_ID + count - 1}", *extra)


# --- a bulkremove process ------------------------------------------------------------------


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
            event = json.loads(line)
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


# --- sections ------------------------------------------------------------------------------


@dataclass
class Pair:
    engine: ProcessRun
    floor: Phase

    @property
    def ratio(self) -> float:
        return self.floor.seconds / self.engine.wall_s


def end_to_end(
    source: Path, count: int, folder: Path, concurrency: int, *server_args: str
) -> ProcessRun:
    server, base = start_server(seeded(count, *server_args))
    try:
        cpu_before = cpu_seconds(server.pid)
        run = bulkremove_run(base, source, folder, "e2e", concurrency)
        cpu_after = cpu_seconds(server.pid)
        check_run(run, "end-to-end")
        removed_everything(base, count, "end-to-end")
    finally:
        stop_server(server)
    if cpu_before is not None and cpu_after is not None:
        run.server_cpu_s = cpu_after - cpu_before
    return run


def floor_process(source: Path, count: int, folder: Path, concurrency: int) -> ProcessRun:
    """``benchmarks.bare_client`` from spawn to exit, on a fresh sandbox."""
    server, base = start_server(seeded(count))
    try:
        command = [
            sys.executable, "-m", "benchmarks.bare_client", base, CAMPAIGN, str(source),
            "--concurrency", str(concurrency), "--max-url-length", str(MAX_URL_LENGTH),
            "--max-ids", str(MAX_IDS),
        ]  # fmt: skip
        run = run_process(command, folder, bulkremove_env(), cwd=PROJECT)
        check_run(run, "bare client")
        removed_everything(base, count, "bare client")
    finally:
        stop_server(server)
    return run


def floor(batches: list[list[int]], count: int, concurrency: int, *server_args: str) -> Phase:
    server, base = start_server(seeded(count, *server_args))
    try:
        targets = targets_for(base, batches, CAMPAIGN)
        phase = asyncio.run(send_all("floor", targets, concurrency, server.pid))
        removed_everything(base, count, "floor")
    finally:
        stop_server(server)
    return phase


def naive_one_id(source: Path, count: int, sample: int) -> Phase:
    ids = source.read_text().split()[:sample]
    server, base = start_server(seeded(count))
    try:
        targets = targets_for(base, [[int(i)] for i in ids], CAMPAIGN)
        return asyncio.run(send_all("one id", targets, 1, server.pid))
    finally:
        stop_server(server)


def naive_curl(source: Path, count: int, sample: int) -> Phase | None:
    curl = shutil.which("curl")
    if curl is None or sample <= 0:
        return None
    ids = source.read_text().split()[:sample]
    server, base = start_server(seeded(count))
    try:
        started = time.perf_counter()
        for i in ids:
            subprocess.run(
                [curl, "-sS", "-o", "/dev/null", "-u", "api_user:api_pass", "-X", "DELETE",
                 f"{base}/batch/crm_outbounds/{CAMPAIGN}/records?customer_id%5B%5D={i}"],
                check=True,
            )  # fmt: skip
        seconds = time.perf_counter() - started
    finally:
        stop_server(server)
    return Phase("curl", seconds, len(ids), len(ids), None)


def naive_batches(batches: list[list[int]], count: int) -> Phase:
    server, base = start_server(seeded(count))
    try:
        targets = targets_for(base, batches, CAMPAIGN)
        return asyncio.run(send_all("batches", targets, 1, server.pid))
    finally:
        stop_server(server)


@dataclass
class Ingest:
    ids: int
    seconds: float
    db_bytes: int
    max_rss_mib: float


def ingest(source: Path, count: int, folder: Path) -> Ingest:
    journal = folder / "ingest.sqlite"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks", "--ingest-child", str(source), str(journal)]
    run = run_process(command, folder, cwd=PROJECT)
    if run.code != 0:
        raise RuntimeError(f"ingest failed ({run.code}):\n{run.stderr[-3000:]}")
    result = json.loads(run.stderr.strip().splitlines()[-1])
    if result["ids"] != count:
        raise RuntimeError(f"ingest read {result['ids']} ids, expected {count}")
    size = sum(
        os.path.getsize(f"{journal}{suffix}")
        for suffix in ("", "-wal")
        if os.path.exists(f"{journal}{suffix}")
    )
    return Ingest(count, result["seconds"], size, run.max_rss_mib)


def ingest_child(source: str, journal: str) -> None:
    """In a fresh process: time ``prepare_journal`` alone (imports are not counted)."""
    from bulkremove.logs import configure
    from bulkremove.prepared import prepare_journal
    from bulkremove.settings import Settings

    configure("json", "warning")
    started = time.perf_counter()
    prepare_journal(Settings(campaign=CAMPAIGN), [source], Path(journal)).close()
    seconds = time.perf_counter() - started
    with sqlite3.connect(journal) as con:
        (ids,) = con.execute("SELECT count(*) FROM records").fetchone()
    print(json.dumps({"seconds": seconds, "ids": ids}), file=sys.stderr)


def memory(source: Path, count: int, folder: Path, concurrency: int) -> ProcessRun:
    server, base = start_server(seeded(count))
    try:
        run = bulkremove_run(base, source, folder, "memory", concurrency)
        check_run(run, "memory")
        removed_everything(base, count, "memory")
    finally:
        stop_server(server)
    return run


@dataclass
class Retry:
    ids: int
    requests: int
    id_sends: int
    capacity: int
    run: ProcessRun

    @property
    def retried(self) -> int:
        return self.id_sends - self.ids

    @property
    def ideal(self) -> int:
        return math.ceil(self.ids / self.capacity) + math.ceil(self.retried / self.capacity)


def retry(
    source: Path, count: int, folder: Path, concurrency: int, calls: tuple[float, float]
) -> Retry:
    call_args = [
        "--call-share",
        "0.02",
        "--call-min",
        f"{calls[0]:g}",
        "--call-max",
        f"{calls[1]:g}",
    ]
    server, base = start_server(seeded(count, *call_args, "--seed", "7"))
    try:
        run = bulkremove_run(
            base, source, folder, "retry", concurrency,
            "--call-retry-initial", "0.2", "--call-retry-max", "1",
        )  # fmt: skip
        check_run(run, "retry")
        removed_everything(base, count, "retry")
    finally:
        stop_server(server)
    report = json.loads((folder / "retry.json").read_text())
    with sqlite3.connect(folder / "retry.sqlite") as con:
        (sends,) = con.execute("SELECT sum(attempts) FROM records_view").fetchone()
    return Retry(count, int(report["requests"]), int(sends), batch_capacity(), run)


# --- output --------------------------------------------------------------------------------


def rate(ids: float, seconds: float) -> str:
    return f"{ids / seconds:>12,.0f} ids/s"


def row(section: str, what: str, seconds: float | None, detail: str) -> None:
    shown = f"{seconds:9.2f} s" if seconds is not None else " " * 11
    print(f"{section:<11} {what:<44} {shown}  {detail}")


def phases(run: ProcessRun) -> str:
    """Start-up, ingest, sending, and exit, from the run's own log events."""
    events = run.events
    created, read, finished = (
        events.get("journal_created"),
        events.get("input_read"),
        events.get("run_finished"),
    )
    if created is None or read is None or finished is None:
        return "(log events missing: no phase split)"
    return (
        f"start-up {created:.2f} s, ingest {read - created:.2f} s, "
        f"sending {finished - read:.2f} s, exit {run.wall_s - finished:.2f} s"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--ids", type=int, help="ids of the end-to-end runs (1,000,000)")
    parser.add_argument(
        "--big-ids", type=int, help="ids of the ingest and memory runs (10,000,000)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--repeat", type=int, help="end-to-end/floor pairs (3)")
    parser.add_argument("--sample", type=int, help="one-id requests timed (2000)")
    parser.add_argument("--curl-sample", type=int, help="curl runs timed, 0 for none (100)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--work-dir", type=Path, help="keep input files here and reuse them")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        help="seconds the sandbox takes per request in the latency section (repeatable;"
        " 0.005, 0.01, 0.02, 0.05)",
    )
    parser.add_argument("--latency-ids", type=int, help="ids of the latency runs (300,000)")
    parser.add_argument("--ingest-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ingest_child:
        ingest_child(*args.ingest_child)
        return 0
    # --quick: tiny sizes and short calls, unless given; for a smoke test, not for figures
    sizes = QUICK if args.quick else FULL
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    calls = (0.2, 1.0) if args.quick else (1.0, 4.0)

    folder = args.work_dir or Path(tempfile.mkdtemp(prefix="bulkremove-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return measure(args, folder.resolve(), calls)
    finally:
        if args.work_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


SECTIONS = ("e2e", "latency", "naive", "ingest", "memory", "retry")
FULL = {
    "ids": 1_000_000,
    "big_ids": 10_000_000,
    "repeat": 3,
    "sample": 2000,
    "curl_sample": 100,
    "latency": [0.005, 0.01, 0.02, 0.05],
    "latency_ids": 300_000,
}
QUICK = {
    "ids": 5000,
    "big_ids": 20_000,
    "repeat": 1,
    "sample": 100,
    "curl_sample": 5,
    "latency": [0.01],
    "latency_ids": 3000,
}


@dataclass
class Figures:
    """What the sections measured, for the targets at the end."""

    ratios: list[float] = field(default_factory=list)
    process_ratios: list[float] = field(default_factory=list)
    engine_s: list[float] = field(default_factory=list)
    one_id_s: float | None = None
    ingest_rate: float | None = None
    peak_mib: float | None = None
    retry_overhead: float | None = None
    by_latency: dict[float, float] = field(default_factory=dict)
    """Median floor / end-to-end at each latency of the sandbox."""


def measure(args: argparse.Namespace, folder: Path, calls: tuple[float, float]) -> int:
    count, concurrency = args.ids, args.concurrency
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; work folder {folder}")
    # Every process timed starts as an installed copy does: pip writes the bytecode at install,
    # while a checkout run with PYTHONDONTWRITEBYTECODE set compiles every module at each start.
    for package in ("bulkremove", "benchmarks"):
        compileall.compile_dir(PROJECT / package, quiet=1)
    source = id_file(folder, count)
    batches = full_batches(count)
    print(
        f"{count:,} shuffled ids in {len(batches)} full requests (up to {batch_capacity()} ids,"
        f" {MAX_URL_LENGTH}-byte request-targets), concurrency {concurrency}"
    )
    figures = Figures()
    sections = args.only or SECTIONS
    if "e2e" in sections:
        section_e2e(args, folder, source, batches, figures)
    if "latency" in sections:
        section_latency(args, folder, figures)
    if "naive" in sections:
        section_naive(args, source, batches, figures)
    if "ingest" in sections or "memory" in sections:
        big_source = id_file(folder, args.big_ids)
        if "ingest" in sections:
            section_ingest(args, folder, big_source, figures)
        if "memory" in sections:
            section_memory(args, folder, big_source, figures)
    if "retry" in sections:
        section_retry(args, folder, source, calls, figures)
    targets(args, figures)
    return 0


def section_e2e(
    args: argparse.Namespace,
    folder: Path,
    source: Path,
    batches: list[list[int]],
    figures: Figures,
) -> None:
    count, concurrency = args.ids, args.concurrency
    print("\n## end-to-end and floor, side by side")
    for n in range(args.repeat):
        engine = end_to_end(source, count, folder, concurrency)
        base = floor(batches, count, concurrency)
        pair = Pair(engine, base)
        figures.ratios.append(pair.ratio)
        figures.engine_s.append(engine.wall_s)
        server = f", server CPU {engine.server_cpu_s:.2f} s" if engine.server_cpu_s else ""
        row(
            f"run {n + 1}",
            "end-to-end: bulkremove run, whole process",
            engine.wall_s,
            f"{rate(count, engine.wall_s)}; CPU {engine.cpu_s:.2f} s{server};"
            f" peak RSS {engine.max_rss_mib:.0f} MiB",
        )
        row("", "  of which", None, phases(engine))
        server = f", server CPU {base.server_cpu_s:.2f} s" if base.server_cpu_s else ""
        row(
            "",
            "floor: bare aiohttp loop, same batches",
            base.seconds,
            f"{rate(count, base.seconds)}; CPU {base.client_cpu_s or 0:.2f} s{server}",
        )
        row("", "  floor / end-to-end", None, f"{pair.ratio:.2f}")
        bare = floor_process(source, count, folder, concurrency)
        figures.process_ratios.append(bare.wall_s / engine.wall_s)
        row(
            "",
            "floor as a whole process (bare_client)",
            bare.wall_s,
            f"{rate(count, bare.wall_s)}; CPU {bare.cpu_s:.2f} s;"
            f" peak RSS {bare.max_rss_mib:.0f} MiB",
        )
        row("", "  whole-process floor / end-to-end", None, f"{figures.process_ratios[-1]:.2f}")


def section_latency(args: argparse.Namespace, folder: Path, figures: Figures) -> None:
    """The same pair against a sandbox that takes a while to answer, as a real API does.

    The engine's fixed work (start-up, ingest) stays; the floor's time grows with the latency.
    """
    count, concurrency = args.latency_ids, args.concurrency
    source = id_file(folder, count)
    batches = full_batches(count)
    print(f"\n## latency: the pair at {count:,} ids, each request answered after a delay")
    for latency in args.latency:
        server_args = ("--latency", f"{latency:g}")
        floors: list[float] = []
        engines: list[float] = []
        for _ in range(args.repeat):
            engines.append(end_to_end(source, count, folder, concurrency, *server_args).wall_s)
            floors.append(floor(batches, count, concurrency, *server_args).seconds)
        ratios = [f / e for f, e in zip(floors, engines, strict=True)]
        figures.by_latency[latency] = statistics.median(ratios)
        engine_s, floor_s = statistics.median(engines), statistics.median(floors)
        row(
            f"{latency * 1e3:g} ms",
            "end-to-end / floor (medians)",
            engine_s,
            f"floor {floor_s:.2f} s; engine - floor {engine_s - floor_s:.2f} s;"
            f" floor / end-to-end {figures.by_latency[latency]:.2f}"
            f" ({', '.join(f'{r:.2f}' for r in ratios)})",
        )


def section_naive(
    args: argparse.Namespace, source: Path, batches: list[list[int]], figures: Figures
) -> None:
    count = args.ids
    print("\n## naive: sequential")
    one = naive_one_id(source, count, args.sample)
    per_request = one.seconds / one.requests
    figures.one_id_s = per_request * count
    row(
        "naive",
        f"one id per request (sample of {one.requests:,})",
        one.seconds,
        f"{per_request * 1e3:.3f} ms/request; extrapolated to {count:,} ids:"
        f" {per_request * count:,.0f} s",
    )
    curl = naive_curl(source, count, args.curl_sample)
    if curl is not None:
        per_curl = curl.seconds / curl.requests
        row(
            "",
            f"curl once per id (sample of {curl.requests:,})",
            curl.seconds,
            f"{per_curl * 1e3:.1f} ms/request; extrapolated to {count:,} ids:"
            f" {per_curl * count:,.0f} s",
        )
    sequential = naive_batches(batches, count)
    row(
        "",
        f"full batches one at a time ({sequential.requests:,} requests)",
        sequential.seconds,
        rate(count, sequential.seconds),
    )


def section_ingest(
    args: argparse.Namespace, folder: Path, big_source: Path, figures: Figures
) -> None:
    big = args.big_ids
    print("\n## ingest")
    taken = ingest(big_source, big, folder)
    figures.ingest_rate = big / taken.seconds
    row(
        "ingest",
        f"prepare_journal, shuffled file of {big:,} ids",
        taken.seconds,
        f"{rate(big, taken.seconds)}; journal {taken.db_bytes / 2**20:,.0f} MiB on disk"
        f" ({taken.db_bytes / big:.1f} bytes/id); peak RSS {taken.max_rss_mib:.0f} MiB",
    )


def section_memory(
    args: argparse.Namespace, folder: Path, big_source: Path, figures: Figures
) -> None:
    big = args.big_ids
    print("\n## memory")
    whole = memory(big_source, big, folder, args.concurrency)
    figures.peak_mib = whole.max_rss_mib
    row(
        "memory",
        f"bulkremove run of {big:,} ids, whole process",
        whole.wall_s,
        f"peak RSS {whole.max_rss_mib:.0f} MiB ({RSS_SOURCE}); {rate(big, whole.wall_s)}",
    )
    row("", "  of which", None, phases(whole))


def section_retry(
    args: argparse.Namespace,
    folder: Path,
    source: Path,
    calls: tuple[float, float],
    figures: Figures,
) -> None:
    count = args.ids
    print("\n## retry efficiency")
    retried = retry(source, count, folder, args.concurrency, calls)
    figures.retry_overhead = retried.requests / retried.ideal
    row(
        "retry",
        f"2% in calls of {calls[0]:g}-{calls[1]:g} s, {count:,} ids",
        retried.run.wall_s,
        f"{retried.requests:,} requests for {retried.id_sends:,} id-sends"
        f" ({retried.retried:,} retried); {retried.requests / count:.5f} requests/record",
    )
    row(
        "",
        "  ideal = ceil(ids/B) + ceil(retried/B)",
        None,
        f"B = {retried.capacity} ids per full request; retried = id-sends - ids;"
        f" ideal {retried.ideal:,} requests ({retried.ideal / count:.5f}/record)",
    )
    row("", "  requests / ideal", None, f"{figures.retry_overhead:.3f}")


def targets(args: argparse.Namespace, figures: Figures) -> None:
    print("\n## targets")
    if figures.ratios:
        median = statistics.median(figures.ratios)
        print(
            f"floor / end-to-end (median of {len(figures.ratios)}) {median:.2f},"
            f" best {max(figures.ratios):.2f}: >= {FLOOR_RATIO_MIN}"
            f" {verdict(median >= FLOOR_RATIO_MIN)}"
        )
    if figures.process_ratios:
        print(
            "whole-process floor / end-to-end (median of"
            f" {len(figures.process_ratios)}) {statistics.median(figures.process_ratios):.2f}"
            " (for reference; the target is on the loop alone)"
        )
    if figures.by_latency:
        shown = ", ".join(
            f"{latency * 1e3:g} ms {ratio:.2f}" for latency, ratio in figures.by_latency.items()
        )
        print(f"floor / end-to-end by the sandbox's latency per request: {shown} (reference)")
    if figures.engine_s and figures.one_id_s is not None:
        speedup = figures.one_id_s / statistics.median(figures.engine_s)
        print(
            f"end-to-end vs one id per request: {speedup:,.0f}x faster:"
            f" >= {NAIVE_SPEEDUP_MIN:g}x {verdict(speedup >= NAIVE_SPEEDUP_MIN)}"
        )
    if figures.ingest_rate is not None:
        print(
            f"ingest {figures.ingest_rate:,.0f} ids/s: >= {INGEST_IDS_PER_S_MIN:,}"
            f" {verdict(figures.ingest_rate >= INGEST_IDS_PER_S_MIN)}"
        )
    if figures.peak_mib is not None:
        print(
            f"peak RSS at {args.big_ids:,} ids {figures.peak_mib:.0f} MiB: < {PEAK_RSS_MIB_MAX}"
            f" {verdict(figures.peak_mib < PEAK_RSS_MIB_MAX)}"
        )
    if figures.retry_overhead is not None:
        print(
            f"requests / ideal in the retry run {figures.retry_overhead:.3f}:"
            f" <= {RETRY_OVERHEAD_MAX} {verdict(figures.retry_overhead <= RETRY_OVERHEAD_MAX)}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
