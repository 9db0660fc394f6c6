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
- ``ingest``: ``bulkremove.prepared.prepare_journal`` in a fresh process on a shuffled ``--big-ids``
  file (validation and dedupe included): ids/s and the journal's size on disk.
- ``memory``: the peak RSS of a whole ``bulkremove run`` of ``--big-ids`` ids, as the kernel
  counts it: GNU time's ``%M`` when ``/usr/bin/time`` is GNU time, else ``VmHWM`` polled.
- ``retry``: 2% of records in calls ending 1-4 s after the sandbox starts; requests per record
  against the ideal (defined in the output).

Traffic goes to 127.0.0.1 only. Input files go to a temporary folder unless ``--work-dir`` is
given, where they are kept and reused. Each section is a module of this package (``e2e``,
``latency``, ``naive``, ``ingest``, ``memory``, ``retry``); ``output`` prints the rows and
``targets`` the verdicts at the end.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.e2e import section_e2e
from benchmarks.ingest import ingest_child, section_ingest
from benchmarks.inputs import MAX_URL_LENGTH, PROJECT, batch_capacity, full_batches, id_file
from benchmarks.latency import section_latency
from benchmarks.memory import section_memory
from benchmarks.naive import section_naive
from benchmarks.retry import section_retry
from benchmarks.targets import Figures, targets

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


if __name__ == "__main__":
    raise SystemExit(main())
