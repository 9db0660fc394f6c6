"""Start-up tricks, each with what it buys; one that buys under 3 % of a run is not kept.

Measured with the end-to-end run of ``python -m benchmarks --only e2e --ids 300000`` (a whole
``bulkremove run`` process against the sandbox, 300,000 ids, concurrency 16): 30 rounds of the
variants in rotation, medians, on a shared 2-core machine (load 6-9). Everything here on:
1.86 s, 0.87 s of CPU.

- :func:`rich_blocked` (structlog imported without rich): without it 1.94 s (+4.3 %), start-up
  +57 ms, CPU +51 ms. Kept.
- :func:`lazy_names`, for the sandbox's face: the command line imports the sandbox's argument
  parser, and the face keeps aiohttp's server side from loading with it. In a run (which loads
  aiohttp's client anyway) that is 25 ms of CPU, about 1 %; in every other command (``report``,
  ``export``, ``runs``, ``--help``) 117 ms on top of their 105 ms of imports, measured apart.

Not kept, with their figures: ``gc.freeze()`` at exit (the exit 60 ms longer without it, the run
1.87 against 1.86 s, CPU +21 ms); importing the engine on a thread while the journal takes the
ids (1.72 s without it against 1.86 s: on two busy cores the import slowed the ingest more than
it saved later); the package's lazy face (1.79 against 1.86 s, +1 ms of CPU in a run, +7 ms
on ``--help``: the command line imports those modules anyway).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any


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
