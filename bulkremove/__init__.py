"""bulkremove: async bulk removal of records from Thulium outbound campaigns.

The public API (see :mod:`bulkremove.remover`)::

    async with BulkRemover(settings) as remover:
        result = await remover.run(["ids.txt"])

The engine and the HTTP stack load when a run starts sending, so ``bulkremove --help`` does not
load them.
"""

from __future__ import annotations

from bulkremove._version import __version__ as __version__
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
