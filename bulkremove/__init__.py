"""bulkremove: async bulk removal of records from Thulium outbound campaigns.

The public API (see :mod:`bulkremove.remover`)::

    async with BulkRemover(settings) as remover:
        result = await remover.run(["ids.txt"])

Names are imported on first use, so ``bulkremove --help`` does not load the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bulkremove._lazy import lazy_names
from bulkremove._version import __version__ as __version__

__all__ = [
    "BulkRemoveError",
    "BulkRemover",
    "ConfigError",
    "FatalApiError",
    "InputError",
    "JobResult",
    "JournalError",
    "Plan",
    "Progress",
    "ProgressSink",
    "RefusedError",
    "Settings",
    "UsageError",
    "load_settings",
]

_HOMES = {
    "BulkRemoveError": "bulkremove.errors",
    "BulkRemover": "bulkremove.remover",
    "ConfigError": "bulkremove.errors",
    "FatalApiError": "bulkremove.errors",
    "InputError": "bulkremove.errors",
    "JobResult": "bulkremove.run",
    "JournalError": "bulkremove.errors",
    "Plan": "bulkremove.plan",
    "Progress": "bulkremove.progress",
    "ProgressSink": "bulkremove.progress",
    "RefusedError": "bulkremove.errors",
    "Settings": "bulkremove.settings",
    "UsageError": "bulkremove.errors",
    "load_settings": "bulkremove.settings",
}

if TYPE_CHECKING:
    from bulkremove.errors import (
        BulkRemoveError,
        ConfigError,
        FatalApiError,
        InputError,
        JournalError,
        RefusedError,
        UsageError,
    )
    from bulkremove.plan import Plan
    from bulkremove.progress import Progress, ProgressSink
    from bulkremove.remover import BulkRemover
    from bulkremove.run import JobResult
    from bulkremove.settings import Settings, load_settings


__getattr__ = lazy_names(__name__, _HOMES, globals())
