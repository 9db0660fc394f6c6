"""End-to-end against the floor: ``bulkremove run`` as a whole process, and a bare aiohttp loop
sending the same batches (in this process, and as a whole process of its own)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import Phase, cpu_seconds, send_all, start_server, stop_server, targets_for
from benchmarks.inputs import CAMPAIGN, MAX_IDS, MAX_URL_LENGTH, PROJECT, seeded
from benchmarks.output import phases, rate, row
from benchmarks.process import (
    ProcessRun,
    bulkremove_env,
    bulkremove_run,
    check_run,
    removed_everything,
    run_process,
)
from benchmarks.targets import Figures


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
