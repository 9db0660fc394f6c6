"""The settings of a resumed run: the caller's own, over the ones its journal recorded.

A journal records the effective settings of the run that made it (never the password). A resume
takes them for every key the caller left alone, so ``--resume JOURNAL`` alone continues the run
as it was configured, from the command line and from :class:`bulkremove.BulkRemover` alike; a
key the caller set wins. Consent (``assume_yes``) is never inherited: it is given per invocation.
The merge itself is the settings' (:func:`bulkremove.settings.with_stored` for a built Settings,
the ``stored`` layer of :func:`bulkremove.settings.load_settings` for the command line's layers).
"""

from __future__ import annotations

from typing import Any

from bulkremove.journal import Journal
from bulkremove.settings import Settings, with_stored


def stored_settings(journal: str) -> dict[str, Any]:
    """The settings ``journal`` recorded."""
    with Journal.open(journal) as opened:
        return dict(opened.get_meta("settings") or {})


def resume_settings(settings: Settings, journal: str) -> Settings:
    """``settings`` with the journal's recorded values for each key the caller left alone."""
    return with_stored(settings, stored_settings(journal))
