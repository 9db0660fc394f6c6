"""Ingest alone: ``prepare_journal`` on a shuffled file in a fresh process; the journal size."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchmarks.inputs import CAMPAIGN, PROJECT
from benchmarks.output import rate, row
from benchmarks.process import run_process
from benchmarks.targets import Figures


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
    result = orjson.loads(run.stderr.strip().splitlines()[-1])
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
    print(orjson.dumps({"seconds": seconds, "ids": ids}).decode(), file=sys.stderr)


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
