"""Proof afterwards: whether what a journal says is true of the campaigns now.

``bulkremove verify JOURNAL`` and ``run --verify`` ask the API about the journal's decided
records: ``removed`` and ``not_found`` ones must be gone, ``in_call`` and ``failed`` ones still
there. Its parts: :mod:`.rules` (what agrees, pure), :mod:`.sample` (the seeded sample, pure),
:mod:`.ways` (one GET per record, or a listing), :mod:`.proof` (one verification), :mod:`.job`
(the journal opened, the findings kept) and :mod:`.api` (the API, through the run's limiter and
retries). The journal's kind of key (:class:`bulkremove.kinds.Kind`) says how a key is listed,
whether it has a single-record GET, and how it is shown.
"""

from bulkremove.verify.job import verify_journal
from bulkremove.verify.proof import Verification, how_lines

__all__ = ["Verification", "how_lines", "verify_journal"]
