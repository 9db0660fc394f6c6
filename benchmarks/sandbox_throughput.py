"""Throughput of the sandbox server in its own process, against a bare aiohttp client.

    python -m benchmarks.sandbox_throughput [--ids 1500000] [--batch 300] [--concurrency 16]

After a warm-up (ids past the campaign's end), three phases send the same prebuilt batches of
full 300-id requests at a fixed concurrency:

1. ``removed``: every id is removed once (the sandbox's real work);
2. ``not_exist``: the same batches again, every id already gone;
3. ``empty``: the same batches to an aiohttp server whose handler answers ``{}`` at once, in its
   own process with the sandbox's server settings: the ceiling of aiohttp itself on this machine.

It prints ids/s, requests/s and the server process's CPU time per request for each phase (with
the ids/s one busy core would sustain at that cost), then the ratio of ``removed`` to the 250,000
ids/s target and to the two baselines of the same run. On a shared machine wall-clock figures
move with the load; the CPU time per request moves much less.
Traffic goes to 127.0.0.1 only; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from benchmarks._common import (
    Phase,
    build_targets,
    fetch_stats,
    rebase,
    send_all,
    start_server,
)

TARGET_IDS_PER_S = 250_000


def serve_empty() -> None:
    """An aiohttp server whose handler does nothing, with the sandbox's server settings."""
    from aiohttp import web

    from bulkremove.sandbox.config import PARSER_LINE_LIMIT

    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"{}", content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{tail:.*}", empty)
        runner = web.AppRunner(
            app, access_log=None, max_line_size=PARSER_LINE_LIMIT, max_field_size=PARSER_LINE_LIMIT
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(f"listening on http://127.0.0.1:{runner.addresses[0][1]}/api", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def report(phases: list[Phase]) -> None:
    removed = phases[0]
    for phase in phases:
        cpu = ""
        if phase.server_cpu_s is not None:
            per_request = phase.server_cpu_s / phase.requests
            # What one fully busy server core would sustain: the server's own ceiling.
            cpu = (
                f", server CPU {per_request * 1e6:,.0f} us/request"
                f" (ceiling {phase.ids / phase.requests / per_request:,.0f} ids/s)"
            )
        print(
            f"{phase.name:>9}: {phase.requests} requests, {phase.ids} ids in {phase.seconds:.2f} s"
            f" = {phase.ids_per_s:,.0f} ids/s, {phase.requests_per_s:,.0f} requests/s{cpu}"
        )
    ratio = removed.ids_per_s / TARGET_IDS_PER_S
    print(f"removed / target ({TARGET_IDS_PER_S:,} ids/s): {ratio:.2f}")
    for baseline in phases[1:]:
        print(f"removed / {baseline.name}: {removed.ids_per_s / baseline.ids_per_s:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_throughput")
    parser.add_argument("--ids", type=int, default=1_500_000, help="ids in the campaign")
    parser.add_argument("--batch", type=int, default=300, help="ids per request")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=300, help="requests before measuring")
    parser.add_argument("--serve-empty", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_empty:
        serve_empty()
        return 0

    command = [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0"]
    sandbox, base = start_server([*command, "--campaign", f"00001=1-{args.ids}"])
    try:
        targets = build_targets(base, 1, args.ids, args.batch)
        # Ids past the campaign: the warm-up removes nothing.
        warmup = build_targets(base, args.ids + 1, args.ids + args.warmup * args.batch, args.batch)
        longest = max(len(t.raw_path_qs) for t in targets)
        print(f"{len(targets)} requests of {args.batch} ids, longest target {longest} bytes")
        asyncio.run(send_all("warmup", warmup, args.concurrency, sandbox.pid))
        phases = [asyncio.run(send_all("removed", targets, args.concurrency, sandbox.pid))]
        phases.append(asyncio.run(send_all("not_exist", targets, args.concurrency, sandbox.pid)))
        stats = asyncio.run(fetch_stats(base.removesuffix("/api")))
    finally:
        sandbox.terminate()
        sandbox_code = sandbox.wait(timeout=10)
    if stats["ids_removed"] != args.ids or stats["remaining"] != {"00001": 0}:
        raise RuntimeError(f"the sandbox did not remove every id: {stats}")

    empty, empty_base = start_server(
        [sys.executable, "-m", "benchmarks.sandbox_throughput", "--serve-empty"]
    )
    try:
        asyncio.run(send_all("warmup", rebase(warmup, empty_base), args.concurrency, empty.pid))
        empty_targets = rebase(targets, empty_base)
        phases.append(asyncio.run(send_all("empty", empty_targets, args.concurrency, empty.pid)))
    finally:
        empty.terminate()
        empty.wait(timeout=10)

    report(phases)
    print(f"sandbox: by_status {stats['by_status']}, exit code {sandbox_code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
