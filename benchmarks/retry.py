"""Retry efficiency: records in calls at the sandbox, and the requests spent against the ideal."""

from __future__ import annotations

import argparse
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchmarks._common import start_server, stop_server
from benchmarks.inputs import batch_capacity, seeded
from benchmarks.output import row
from benchmarks.process import ProcessRun, bulkremove_run, check_run, removed_everything
from benchmarks.targets import Figures


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
    report = orjson.loads((folder / "retry.json").read_bytes())
    with sqlite3.connect(folder / "retry.sqlite") as con:
        (sends,) = con.execute("SELECT sum(attempts) FROM records_view").fetchone()
    return Retry(count, int(report["requests"]), int(sends), batch_capacity(), run)


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
