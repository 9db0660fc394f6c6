"""The end-to-end pair again, against a sandbox that takes a while to answer each request."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks.e2e import end_to_end, floor
from benchmarks.inputs import full_batches, id_file
from benchmarks.output import row
from benchmarks.targets import Figures


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
