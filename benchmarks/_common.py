"""Pieces shared by the benchmarks: server processes, prebuilt requests, a bare aiohttp sender.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

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

from bulkremove.batching import QUERY_KEY

CREDENTIALS = ("api_user", "api_pass")
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    requests: int
    ids: int
    server_cpu_s: float | None
    client_cpu_s: float | None = None

    @property
    def ids_per_s(self) -> float:
        return self.ids / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds


def sandbox_command(*args: str) -> list[str]:
    """``bulkremove sandbox`` on a free loopback port, in its own process."""
    return [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0", *args]


def build_targets(base: str, first: int, last: int, batch: int) -> list[URL]:
    """Encoded request URLs covering ids first..last in batches of ``batch``."""
    path = f"{base}/batch/crm_outbounds/00001/records?"
    targets = []
    for start in range(first, last + 1, batch):
        ids = range(start, min(start + batch, last + 1))
        targets.append(URL(path + "&".join(QUERY_KEY + str(i) for i in ids), encoded=True))
    return targets


def targets_for(base: str, batches: Sequence[Sequence[int]], campaign: str = "00001") -> list[URL]:
    """Encoded request URLs, one per batch of ids, exactly as bulkremove sends them."""
    from bulkremove.batching import build_query

    path = f"{base}/batch/crm_outbounds/{campaign}/records?"
    return [URL(path + build_query(ids), encoded=True) for ids in batches]


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


def own_cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    times = os.times()
    return times.user + times.system


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
        own_before = own_cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        own = own_cpu_seconds() - own_before
        cpu_after = cpu_seconds(server_pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Phase(name, seconds, len(targets), ids, cpu, own)


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


def stop_server(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL if it lingers; returns the exit code."""
    process.terminate()
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
