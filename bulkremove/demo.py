"""``bulkremove demo``: a whole removal against the built-in sandbox, in one process.

The sandbox serves on a free loopback port with ``records`` records, about 1% of them in calls
that end within a few seconds; the id list is written to a file and read back by the real input
reader; the real engine writes a real journal. Nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio

from bulkremove.logs import get_logger
from bulkremove.prepared import default_journal_path
from bulkremove.progress import ProgressSink
from bulkremove.run import JobResult, run
from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig
from bulkremove.settings import Settings

DEMO_CAMPAIGN = "00001"


def _write_ids(folder: Path, records: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ids_file = folder / IDS_FILE
    with ids_file.open("w", encoding="ascii") as out:
        out.write("# customer ids for bulkremove demo\n")
        out.writelines(f"{i}\n" for i in range(1, records + 1))
    return ids_file


IDS_FILE = "ids.txt"


async def run_demo(
    *,
    records: int = 200_000,
    directory: str = "bulkremove-demo",
    progress: Sequence[ProgressSink] = (),
) -> JobResult:
    """Run the demo, its progress shown by ``progress``; returns the job's report and exit code."""
    folder = Path(directory)
    ids_file = await anyio.to_thread.run_sync(_write_ids, folder, records)
    config = SandboxConfig(
        port=0,
        campaigns=(RangeSeed(DEMO_CAMPAIGN, 1, records),),
        call_share=0.01,
        call_min_s=1.0,
        call_max_s=4.0,
        seed=1,
    )
    async with Sandbox(config) as sandbox:
        settings = Settings(
            base_url=sandbox.base_url,
            username=config.username,
            password=config.password,
            campaign=DEMO_CAMPAIGN,
            concurrency=8,
            rate=200.0,
            call_retry_initial=2.0,
            call_retry_max=5.0,
            journal_dir=str(folder),
        )
        journal = default_journal_path(settings)
        get_logger("demo").info(
            "demo_started", sandbox=sandbox.base_url, records=records, ids_file=str(ids_file)
        )
        return await run(settings, inputs=[str(ids_file)], journal=str(journal), progress=progress)
