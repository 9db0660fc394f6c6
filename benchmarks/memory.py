"""Peak memory: a whole ``bulkremove run`` of the big id file, as the kernel counts it."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks._common import start_server, stop_server
from benchmarks.inputs import seeded
from benchmarks.output import phases, rate, row
from benchmarks.process import (
    RSS_SOURCE,
    ProcessRun,
    bulkremove_run,
    check_run,
    removed_everything,
)
from benchmarks.targets import Figures


def memory(source: Path, count: int, folder: Path, concurrency: int) -> ProcessRun:
    server, base = start_server(seeded(count))
    try:
        run = bulkremove_run(base, source, folder, "memory", concurrency)
        check_run(run, "memory")
        removed_everything(base, count, "memory")
    finally:
        stop_server(server)
    return run


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
