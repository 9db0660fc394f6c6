"""The floor as a whole process: what a short hand-written script does, and nothing more.

    python -m benchmarks.bare_client BASE_URL CAMPAIGN IDS_FILE [--concurrency 16]
        [--max-url-length 8000] [--max-ids 500]

It reads the id file, drops duplicates and sorts (as bulkremove's journal does), packs the ids
greedily into request-targets of at most ``--max-url-length`` bytes and ``--max-ids`` ids (the
same full batches bulkremove sends), and sends them with ``--concurrency`` aiohttp workers,
reading each body. No journal, no parsing of answers, no retries: any answer but a 200 stops it
with exit 1. Credentials come from ``BULKREMOVE_USERNAME`` and ``BULKREMOVE_PASSWORD``.
It imports aiohttp alone, so timing it from spawn to exit counts what any such script pays:
the interpreter, aiohttp, reading the input, and sending.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import aiohttp
from yarl import URL

KEY = "customer_id%5B%5D="  # brackets encoded, as bulkremove sends them by default


def batches(ids: list[int], path: str, max_url_length: int, max_ids: int) -> list[str]:
    """Encoded request-targets, each as full as both limits allow."""
    targets: list[str] = []
    room = max_url_length - len(path) - 1  # the '?'
    current: list[str] = []
    used = 0
    for text in map(str, ids):
        cost = len(KEY) + len(text) + (1 if current else 0)  # '&' between pairs
        if current and (len(current) >= max_ids or used + cost > room):
            targets.append(f"{path}?{KEY}" + f"&{KEY}".join(current))
            current, used = [], 0
            cost = len(KEY) + len(text)
        current.append(text)
        used += cost
    if current:
        targets.append(f"{path}?{KEY}" + f"&{KEY}".join(current))
    return targets


async def send(base: str, targets: list[str], concurrency: int) -> None:
    auth = aiohttp.encode_basic_auth(
        os.environ["BULKREMOVE_USERNAME"], os.environ["BULKREMOVE_PASSWORD"]
    )
    origin = URL(base).origin()
    pending = iter(targets)

    async def worker(session: aiohttp.ClientSession) -> None:
        for target in pending:
            url = origin.join(URL(target, encoded=True))
            async with session.delete(url, headers={"Authorization": auth}) as response:
                body = await response.read()
                if response.status != 200:
                    raise SystemExit(f"HTTP {response.status}: {body[:200]!r}")

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_client")
    parser.add_argument("base_url")
    parser.add_argument("campaign")
    parser.add_argument("ids_file")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-url-length", type=int, default=8000)
    parser.add_argument("--max-ids", type=int, default=500)
    args = parser.parse_args(argv)
    with open(args.ids_file, "rb") as source:
        ids = sorted(set(map(int, source.read().split())))
    path = f"{URL(args.base_url).raw_path.rstrip('/')}/batch/crm_outbounds/{args.campaign}/records"
    targets = batches(ids, path, args.max_url_length, args.max_ids)
    asyncio.run(send(args.base_url, targets, args.concurrency))
    print(f"{len(ids)} ids in {len(targets)} requests", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
