"""What the sections measured, and the performance targets they are held to at the end."""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field

from benchmarks.output import verdict

FLOOR_RATIO_MIN = 0.8
NAIVE_SPEEDUP_MIN = 50.0
INGEST_IDS_PER_S_MIN = 500_000
PEAK_RSS_MIB_MAX = 150
RETRY_OVERHEAD_MAX = 1.10


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
