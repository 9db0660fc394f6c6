from __future__ import annotations

import os
from pathlib import Path

import pytest

# Journals sync to disk on every commit; on a RAM-backed folder the suite does not wait on the
# disk, which is most of its time on a busy machine. An explicit choice of the caller wins.
_RAM = Path("/dev/shm")
if _RAM.is_dir() and os.access(_RAM, os.W_OK | os.X_OK):
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(_RAM))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
