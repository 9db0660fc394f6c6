"""Adaptive sending against a rate-limited sandbox: achieved rate and share of 429s.

    python -m benchmarks.throttle [--limit 20] [--seconds 60]

The sandbox, in its own process, allows ``--limit`` requests/s (a token bucket holding
``--server-burst`` tokens, answering 429 with Retry-After in whole seconds, as nginx's limit_req
with a small burst would). ``bulkremove run`` runs as a whole process twice: with ``--rate``
equal to the limit, and with four times the limit. Each run carries enough ids for about
``--seconds`` of sending at the limit. Printed per run: requests the server accepted per second
over the run, the ratio to the limit, and 429s as a share of all requests.
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

import orjson

from benchmarks._common import start_server, stop_server

IDS_PER_REQUEST = 10


def run_once(
    limit: float, burst: int, client_rate: float, seconds: float, folder: Path
) -> dict[str, float]:
    requests = int(limit * seconds)
    ids = requests * IDS_PER_REQUEST
    ids_file = folder / f"ids-{client_rate:g}.txt"
    ids_file.write_text("".join(f"{i}\n" for i in range(1, ids + 1)))
    server, base = start_server(
        [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0",
         "--campaign", f"00001=1-{ids}", "--rate-limit", f"{limit:g}",
         "--rate-burst", str(burst)]
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULKREMOVE_")}
    env.update(BULKREMOVE_USERNAME="api_user", BULKREMOVE_PASSWORD="api_pass")
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bulkremove", "run", "--yes", "--base-url", base,
             "--campaign", "00001", "--input", str(ids_file), "--concurrency", "8",
             "--rate", f"{client_rate:g}", "--max-ids-per-request", str(IDS_PER_REQUEST),
             "--journal", str(folder / f"j-{client_rate:g}.sqlite"), "--log-level", "warning"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        took = time.monotonic() - started
        with urllib.request.urlopen(base.removesuffix("/api") + "/_sandbox/stats") as answer:
            stats = orjson.loads(answer.read())
    finally:
        stop_server(server)
    if done.returncode != 0:
        raise RuntimeError(f"run exited {done.returncode}: {done.stderr[-2000:]}")
    by_status = stats["by_status"]
    throttled = int(by_status.get("429", 0))
    accepted = int(stats["requests"]) - throttled
    return {
        "client_rate": client_rate,
        "seconds": took,
        "accepted_per_s": accepted / took,
        "ratio": accepted / took / limit,
        "requests": float(stats["requests"]),
        "throttled": float(throttled),
        "throttled_share": throttled / max(1, int(stats["requests"])),
        "remaining": float(stats["remaining"]["00001"]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=float, default=20.0, help="server limit, requests/s")
    parser.add_argument("--seconds", type=float, default=60.0, help="run length at the limit")
    parser.add_argument("--server-burst", type=int, default=5, help="server's bucket size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            run_once(args.limit, args.server_burst, factor * args.limit, args.seconds, Path(tmp))
            for factor in (1, 4)
        ]
    print(
        f"server limit R = {args.limit:g} requests/s (burst {args.server_burst}), "
        f"{IDS_PER_REQUEST} ids per request"
    )
    heads = ("client --rate", "wall s", "accepted/s", "/ R", "429s", "429 %")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (14, 8, 11, 6, 6, 7), strict=True)))
    for row in rows:
        print(
            f"{row['client_rate']:>14g} {row['seconds']:>8.1f} {row['accepted_per_s']:>11.2f} "
            f"{row['ratio']:>6.2f} {row['throttled']:>6.0f} {100 * row['throttled_share']:>6.2f}%"
        )
        if row["remaining"]:
            print(f"  warning: {row['remaining']:.0f} records left on the server")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
