"""Start-up tricks: each buys time on every run, measured end to end, or it would not be here.

Each is measured with ``python -m benchmarks --only e2e --ids 300000`` (a whole
``bulkremove run`` process against the sandbox), runs with and without it alternating.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import threading
from collections.abc import Iterator


def load_in_background(module: str) -> None:
    """Import ``module`` on a thread of its own.

    The engine and the HTTP stack under it take a fifth of a second to import, nearly all of it
    holding the GIL; the journal's insert of the ids read does not hold it. A run starts this
    once its input is read (reading holds the GIL too, and the two slowed each other), so the
    import runs beside SQLite's work. The import that needs the module waits for this one
    (Python's import lock); a failure here is met again there.
    """
    if module in sys.modules:
        return
    threading.Thread(
        target=_import_quietly, args=(module,), name=f"import {module}", daemon=True
    ).start()


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):
        importlib.import_module(module)


@contextlib.contextmanager
def rich_blocked() -> Iterator[None]:
    """Keep an import inside from loading rich.

    structlog imports rich, and through it pygments, whenever it can, only to draw tracebacks;
    ours are plain. The live display imports rich itself, later, once the block is lifted.
    """
    blocked = sys.modules.setdefault("rich", None) is None  # type: ignore[arg-type]
    try:
        yield
    finally:
        if blocked:
            del sys.modules["rich"]


def freeze_for_exit() -> None:
    """Skip the last garbage collections of a process about to exit.

    They would walk every object the imports made; frozen, they are skipped, and the memory
    goes back with the process. Not while another thread runs (an import in the background,
    after a refusal): the interpreter's finalization has crashed on frozen objects then.
    """
    if threading.active_count() == 1:
        gc.freeze()
