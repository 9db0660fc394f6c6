"""The journal: the run's single source of truth, a SQLite file. The only package with SQL.

Its parts: :mod:`~bulkremove.journal.schema` (the one schema, identity, connection),
:mod:`~bulkremove.journal.lock` (one writer at a time), :mod:`~bulkremove.journal.intake`
(ingested ids), :mod:`~bulkremove.journal.outcomes` (group commit),
:mod:`~bulkremove.journal.reads` (pages, counts, exports, meta) and
:mod:`~bulkremove.journal.spans` (removed runs), put together in
:mod:`~bulkremove.journal.file`.
"""

from bulkremove.journal.file import Journal
from bulkremove.journal.lock import writer_pid
from bulkremove.journal.records import STATES, JournalRecord, OutcomeGroup, State

__all__ = [
    "STATES",
    "Journal",
    "JournalRecord",
    "OutcomeGroup",
    "State",
    "writer_pid",
]
