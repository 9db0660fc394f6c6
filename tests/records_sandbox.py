"""An in-process sandbox holding campaigns of detailed records, and a client to ask it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from e2e import write_records

from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig
from bulkremove.sandbox.recordfile import read_records_file

AUTH = {"Authorization": aiohttp.encode_basic_auth("api_user", "api_pass")}

Campaigns = Mapping[str, tuple[str, Sequence[dict[str, Any]]]]
"""campaign id -> (target, records as in a records file)"""


@asynccontextmanager
async def serve_records(
    tmp_path: Path, seeded: int, campaigns: Campaigns, **options: Any
) -> AsyncIterator[tuple[Sandbox, aiohttp.ClientSession]]:
    """Range campaign 00001 (ids 1..``seeded``) and ``campaigns``, each from a records file."""
    seeds = [
        read_records_file(write_records(tmp_path / f"{name}.json", name, target, records))
        for name, (target, records) in campaigns.items()
    ]
    config = SandboxConfig(port=0, campaigns=(RangeSeed("00001", 1, seeded), *seeds), **options)
    async with Sandbox(config) as sandbox, aiohttp.ClientSession() as session:
        yield sandbox, session
