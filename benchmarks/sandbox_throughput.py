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
import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import orjson
from yarl import URL

TARGET_IDS_PER_S = 250_000
QUERY_KEY = "customer_id%5B%5D="
CREDENTIALS = ("api_user", "api_pass")
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    requests: int
    ids: int
    server_cpu_s: float | None

    @property
    def ids_per_s(self) -> float:
        return self.ids / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds


def build_targets(base: str, first: int, last: int, batch: int) -> list[URL]:
    """Encoded request URLs covering ids first..last in batches of ``batch``."""
    path = f"{base}/batch/crm_outbounds/00001/records?"
    targets = []
    for start in range(first, last + 1, batch):
        ids = range(start, min(start + batch, last + 1))
        targets.append(URL(path + "&".join(QUERY_KEY + str(i) for i in ids), encoded=True))
    return targets


def rebase(targets: Sequence[URL], base: str) -> list[URL]:
    """The same request-targets on another server."""
    root = URL(base)
    return [t.with_host(root.host or "127.0.0.1").with_port(root.port) for t in targets]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux); None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def send_all(name: str, targets: Sequence[URL], concurrency: int, server_pid: int) -> Phase:
    """Send every target once with ``concurrency`` workers; every answer must be a 200."""
    headers = {"Authorization": aiohttp.encode_basic_auth(*CREDENTIALS)}
    pending = iter(targets)
    ids = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ids
        for url in pending:
            async with session.delete(url, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{name}: {response.status} {body[:200]!r}")
            ids += url.raw_query_string.count("&") + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        cpu_before = cpu_seconds(server_pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu_after = cpu_seconds(server_pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Phase(name, seconds, len(targets), ids, cpu)


async def fetch_stats(root: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as session, session.get(root + "/_sandbox/stats") as r:
        stats: dict[str, object] = orjson.loads(await r.read())
        return stats


def start_server(command: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server process and read its ``listening on URL`` line."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
    line = process.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("listening on "):
        process.kill()
        process.wait()
        raise RuntimeError(f"server did not start: {line!r}")
    return process, line.removeprefix("listening on ")


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
