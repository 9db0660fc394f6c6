"""The ids every benchmark removes, the files holding them and the batches they make."""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks._common import sandbox_command
from bulkremove.batching import Packer, pack, records_path

PROJECT = Path(__file__).resolve().parent.parent
FIRST_ID = 1_000_001
CAMPAIGN = "00001"
MAX_URL_LENGTH = 8000
MAX_IDS = 500
RATE = 1_000_000


def id_file(folder: Path, count: int, seed: int = 1) -> Path:
    """``count`` distinct ids from FIRST_ID up, shuffled, one per line; kept for reuse."""
    path = folder / f"ids-{count}-{seed}.txt"
    if not path.exists():
        ids = list(range(FIRST_ID, FIRST_ID + count))
        random.Random(seed).shuffle(ids)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as out:
            for start in range(0, count, 1 << 20):
                out.write("\n".join(map(str, ids[start : start + (1 << 20)])) + "\n")
        tmp.replace(path)
    return path


def full_batches(count: int) -> list[list[int]]:
    """The batches bulkremove sends for a fresh journal of these ids: ascending, full."""
    path = records_path("/api", CAMPAIGN)
    return list(pack(range(FIRST_ID, FIRST_ID + count), path, MAX_URL_LENGTH, MAX_IDS))


def batch_capacity() -> int:
    """Ids in one full request of 7-digit ids under the run's limits."""
    packer = Packer(records_path("/api", CAMPAIGN), MAX_URL_LENGTH, MAX_IDS)
    while packer.add(FIRST_ID):
        pass
    return len(packer)


def seeded(count: int, *extra: str) -> list[str]:
    """The sandbox's command line, with CAMPAIGN holding ``count`` ids from FIRST_ID up."""
    return sandbox_command("--campaign", f"{CAMPAIGN}={FIRST_ID}-{FIRST_ID + count - 1}", *extra)
