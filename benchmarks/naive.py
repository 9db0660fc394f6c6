"""The naive ways, sequentially: one id per request (aiohttp, and curl once per id) and every
full batch one at a time."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks._common import Phase, send_all, start_server, stop_server, targets_for
from benchmarks.inputs import CAMPAIGN, seeded
from benchmarks.output import rate, row
from benchmarks.targets import Figures


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
