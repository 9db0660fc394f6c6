"""Start-up tricks, each with what it buys; one that buys under 3 % of a run is not kept.

Measured with the end-to-end run of ``python -m benchmarks --only e2e --ids 300000`` (a whole
``bulkremove run`` process against the sandbox, 300,000 ids, concurrency 16), the variants in
rotation, medians; on a busy machine the figures mislead (an import on a thread looks like a loss
when the other core is taken), so the two kept last were measured with the machine otherwise idle:
6 rounds, everything on 0.75 s.

- :func:`then_import` (the engine and the HTTP stack imported on a thread while SQLite inserts
  the ids): without it 0.81 s (+8 %), the sending phase 0.08 s longer. Kept.
- :func:`freeze_before_exit`: without it 0.78 s (+4 %), the exit 0.02-0.03 s longer. Kept.
- :func:`rich_blocked` (structlog imported without rich): without it +4.3 %, start-up +57 ms,
  CPU +51 ms (30 rounds, busy machine). Kept.
- :func:`lazy_names`, for the sandbox's face: the command line imports the sandbox's argument
  parser, and the face keeps aiohttp's server side from loading with it. In a run (which loads
  aiohttp's client anyway) that is 25 ms of CPU, about 1 %; in every other command (``report``,
  ``export``, ``runs``, ``--help``) 117 ms on top of their 105 ms of imports, measured apart.
  Kept for those commands.

Not kept: the package's own lazy face (+1 ms of CPU in a run, +7 ms on ``--help``: the command
line imports those modules anyway).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


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


def lazy_names(
    package: str, homes: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing each name of ``homes`` from its module when asked."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value  # later lookups skip this function
        return value

    return __getattr__


def then_import(items: Iterable[T], modules: Sequence[str]) -> Iterator[T]:
    """``items``, then ``modules`` imported on a thread of its own once they are all taken.

    The engine and the HTTP stack take a fifth of a second to import, nearly all of it holding
    the GIL; the journal's insert of the ids read does not hold it. Started once the input is read
    (reading holds the GIL too, and the two would slow each other), the import runs beside
    SQLite's work. An import that needs a module waits for this one (Python's import lock); a
    failure here is met again there. Nothing starts for a read that fails.
    """
    yield from items
    missing = [module for module in modules if module not in sys.modules]
    if missing:
        threading.Thread(target=_import_quietly, args=(missing,), daemon=True).start()


def _import_quietly(modules: Sequence[str]) -> None:
    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)


def freeze_before_exit() -> None:
    """Spare the process's last garbage collections the objects the imports made.

    They would walk every one of them (some 30 ms); frozen, they are skipped, and the memory goes
    back with the process. Not while another thread runs (an import in the background, after a
    refusal): the interpreter's finalization has crashed on frozen objects then.
    """
    if threading.active_count() == 1:
        gc.freeze()
