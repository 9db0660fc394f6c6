"""Adaptive sending against a rate-limited sandbox: achieved rate and share of 429s.

    python -m benchmarks.throttle [--limit 20] [--seconds 45] [--factors 1,4,50] [--headers]
                                  [--e2e-ids 1000000 --e2e-limit 100] [--plot docs/pacing.png]

The sandbox, in its own process, allows ``--limit`` requests/s (a token bucket holding
``--server-burst`` tokens, answering 429 with Retry-After rounded up to whole seconds, as nginx's
limit_req with a small burst would). ``bulkremove run --snapshot off`` (its DELETEs alone) runs
as a whole process once per factor, told ``--rate`` that many times the limit, carrying enough
ids for about ``--seconds`` of sending at the limit. With ``--headers`` the sandbox also states
its limit in headers (the IETF draft's ``RateLimit-*``, then ``X-RateLimit-*``) for a run told 50
times the limit.

Printed per run, from the sandbox's own count by second (first request to last answer): requests
accepted per second, the ratio to the limit, 429s as a share of all requests, and the seconds
until the accepted rate first held 0.9 of the limit over three seconds. ``--e2e-ids`` adds a run of
that many 7-digit ids told the limit ``--e2e-limit``: its wall time, start-up included, against
the least possible, the plan's requests at the limit. ``--plot`` draws accepted and throttled
requests per second of every run into one PNG (needs matplotlib: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from benchmarks._common import start_server, stop_server
from bulkremove.batching import count_batches
from bulkremove.kinds import kind_named

IDS_PER_REQUEST = 10


def run_once(
    limit: float, burst: int, client_rate: float, ids: int, folder: Path, *,
    headers: str | None = None, first_id: int = 1, max_ids: int = IDS_PER_REQUEST,
) -> dict[str, Any]:  # fmt: skip
    """One run against a fresh sandbox; the figures of it (see the module's text)."""
    last_id = first_id + ids - 1
    ids_file = folder / f"ids-{client_rate:g}-{headers}-{ids}.txt"
    ids_file.write_text("".join(f"{i}\n" for i in range(first_id, last_id + 1)))
    server, base = start_server(
        [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0",
         "--campaign", f"00001={first_id}-{last_id}", "--rate-limit", f"{limit:g}",
         "--rate-burst", str(burst), *(["--rate-headers", headers] if headers else [])]
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULKREMOVE_")}
    env.update(BULKREMOVE_USERNAME="api_user", BULKREMOVE_PASSWORD="api_pass")
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bulkremove", "run", "--yes", "--base-url", base,
             "--campaign", "00001", "--input", str(ids_file), "--concurrency", "8",
             "--rate", f"{client_rate:g}", "--max-ids-per-request", str(max_ids),
             "--journal", str(folder / f"j-{client_rate:g}-{headers}-{ids}.sqlite"),
             "--log-level", "warning", "--snapshot", "off"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        took = time.monotonic() - started
        with urllib.request.urlopen(base.removesuffix("/api") + "/_sandbox/stats") as answer:
            stats = orjson.loads(answer.read())
    finally:
        stop_server(server)
    if done.returncode != 0:
        raise RuntimeError(f"run exited {done.returncode}: {done.stderr[-2000:]}")
    throttled = int(stats["by_status"].get("429", 0))
    accepted = int(stats["requests"]) - throttled
    sending = max(float(stats["sending_s"]), 1e-9)
    series = [(int(ok), int(bad)) for ok, bad in stats["per_second"]]
    return {
        "client_rate": client_rate,
        "headers": headers or "",
        "wall_s": took,
        "sending_s": sending,
        "accepted_per_s": accepted / sending,
        "ratio": accepted / sending / limit,
        "requests": int(stats["requests"]),
        "throttled": throttled,
        "throttled_share": throttled / max(1, int(stats["requests"])),
        "to_0_9": time_to(series, 0.9 * limit),
        "series": series,
        "remaining": int(stats["remaining"]["00001"]),
    }


def time_to(series: Sequence[tuple[int, int]], rate: float, span: int = 3) -> float | None:
    """The first second from which ``span`` seconds accepted ``rate`` per second on average."""
    for start in range(max(0, len(series) - span + 1)):
        if sum(ok for ok, _ in series[start : start + span]) >= rate * span:
            return float(start)
    return None


def least_seconds(ids: int, first_id: int, limit: float, max_ids: int) -> tuple[int, float]:
    """Requests the plan packs ``ids`` ascending 7-digit ids into, and their time at ``limit``."""
    kind = kind_named("customer_id")
    width = len(str(first_id))
    requests = count_batches({width: ids}, kind.path("/api", "00001"), 8000, max_ids, kind.pair)
    return requests, requests / limit


def plot(rows: Sequence[dict[str, Any]], limit: float, path: Path) -> None:
    """Accepted and throttled requests per second of every run, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(rows), 1, figsize=(8, 2.2 * len(rows)), sharex=True)
    for axis, row in zip(axes if len(rows) > 1 else [axes], rows, strict=True):
        seconds = range(len(row["series"]))
        axis.plot(seconds, [ok for ok, _ in row["series"]], label="accepted/s")
        axis.bar(seconds, [bad for _, bad in row["series"]], color="tab:red", label="429/s")
        axis.axhline(limit, color="grey", linestyle="--", linewidth=0.8, label="limit R")
        told = f"told {row['client_rate'] / limit:g} R"
        headers = f", {row['headers']} headers" if row["headers"] else ""
        axis.set_title(f"{told}{headers}: {row['ratio']:.3f} R, {row['throttled']} 429s", size=9)
        axis.set_ylim(0, limit * 1.3)
    axes_list = axes if len(rows) > 1 else [axes]
    axes_list[0].legend(loc="lower right", fontsize=7)
    axes_list[-1].set_xlabel("seconds since the first request")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=float, default=20.0, help="server limit, requests/s")
    parser.add_argument("--seconds", type=float, default=45.0, help="run length at the limit")
    parser.add_argument("--server-burst", type=int, default=2, help="server's bucket size")
    parser.add_argument("--factors", default="1,4,50", help="client rates, times the limit")
    parser.add_argument("--headers", action="store_true", help="add runs with rate headers")
    parser.add_argument("--e2e-ids", type=int, default=0, help="ids of the end-to-end run")
    parser.add_argument("--e2e-limit", type=float, default=100.0, help="its server limit")
    parser.add_argument("--plot", type=Path, default=None, help="PNG of rate over time")
    args = parser.parse_args(argv)
    limit, ids = args.limit, int(args.limit * args.seconds) * IDS_PER_REQUEST
    factors = [float(f) for f in args.factors.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_once(limit, args.server_burst, f * limit, ids, Path(tmp)) for f in factors]
        if args.headers:
            rows += [
                run_once(limit, args.server_burst, 50 * limit, ids, Path(tmp), headers=form)
                for form in ("ietf", "x")
            ]
        whole = None
        if args.e2e_ids:
            whole = run_once(
                args.e2e_limit, args.server_burst, args.e2e_limit, args.e2e_ids, Path(tmp),
                first_id=1_000_001, max_ids=500,
            )  # fmt: skip
    print(
        f"server limit R = {limit:g} requests/s (burst {args.server_burst}, Retry-After in whole "
        f"seconds), {IDS_PER_REQUEST} ids per request, about {args.seconds:g} s per run"
    )
    heads = (
        "client --rate",
        "headers",
        "sending s",
        "accepted/s",
        "/ R",
        "429s",
        "429 %",
        "0.9R at",
    )
    widths = (14, 8, 10, 11, 6, 6, 7, 8)
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    for row in rows:
        reached = "-" if row["to_0_9"] is None else f"{row['to_0_9']:.0f} s"
        print(
            f"{row['client_rate']:>14g} {row['headers'] or '-':>8} {row['sending_s']:>10.1f} "
            f"{row['accepted_per_s']:>11.2f} {row['ratio']:>6.3f} {row['throttled']:>6} "
            f"{100 * row['throttled_share']:>6.2f}% {reached:>8}"
        )
        if row["remaining"]:
            print(f"  warning: {row['remaining']} records left on the server")
    if whole is not None:
        requests, least = least_seconds(args.e2e_ids, 1_000_001, args.e2e_limit, 500)
        print(
            f"end to end: {args.e2e_ids} ids, limit {args.e2e_limit:g}/s, told it: wall "
            f"{whole['wall_s']:.1f} s against the least {least:.1f} s ({requests} requests at the "
            f"limit): {whole['wall_s'] / least:.3f}; {whole['throttled']} 429s"
        )
    if args.plot is not None:
        plot(rows, limit, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
