"""The snapshot: each record a run removes, kept in the journal as the API lists it, first.

A run by selection (``--where``) has it from its listing. A run from input files takes it after
consent and before its first DELETE, when ``snapshot`` says so (:mod:`~bulkremove.snapshot.cost`
weighs its cost, :mod:`~bulkremove.snapshot.decision` decides it in the plan stage,
:mod:`~bulkremove.snapshot.taking` takes it). Its rows are the journal's ``listed`` table,
``fields`` the record as listed; ``bulkremove restore`` adds records back from them. The journal's
meta ``snapshot`` says whether one was taken and how.
"""

from bulkremove.snapshot.cost import SnapshotPlan, decide
from bulkremove.snapshot.decision import plan_snapshot
from bulkremove.snapshot.taking import take_snapshot

__all__ = ["SnapshotPlan", "decide", "plan_snapshot", "take_snapshot"]
