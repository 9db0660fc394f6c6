"""Undo: ``bulkremove restore JOURNAL`` adds back the records a journal removed.

Its parts: :mod:`.convert` (what the listing showed, as the add takes it; pure), :mod:`.budget`
(how many records one batch add carries, lowered on a 413; pure), :mod:`.answers` (what an add
said of each record; pure), :mod:`.plan` (what a restore sends, from the journal's snapshot)
and :mod:`.job` (consent, the adds, the outcomes kept). The journal's ``restores`` table holds
each record's outcome (:mod:`bulkremove.journal.restores`).
"""

from bulkremove.restore.job import Restored, restore_journal
from bulkremove.restore.plan import RESTORABLE, RestorePlan, read_keys

__all__ = ["RESTORABLE", "RestorePlan", "Restored", "read_keys", "restore_journal"]
