"""The settings of a resumed run: the caller's own, over the ones its journal recorded.

A journal records the effective settings of the run that made it (never the password). A resume
takes them for every key the caller left alone, so ``--resume JOURNAL`` alone continues the run
as it was configured, from the command line and from :class:`bulkremove.BulkRemover` alike; a
key the caller set wins. Consent (``assume_yes``) is never inherited: it is given per invocation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bulkremove.journal import Journal
from bulkremove.settings import Settings, load_settings
from bulkremove.settings import _check_relations as check_relations


def stored_settings(journal: str) -> dict[str, Any]:
    """The settings ``journal`` recorded, less ``assume_yes``."""
    with Journal.open(journal) as opened:
        stored = dict(opened.get_meta("settings") or {})
    stored.pop("assume_yes", None)  # consent is given per invocation, never inherited
    return stored


def resume_settings(settings: Settings, journal: str) -> tuple[Settings, list[str]]:
    """``settings`` with the journal's recorded values for each key the caller left alone.

    A key is the caller's when it has a source (a flag, an env var, the config file) or differs
    from its default. The journal's values are checked as a config file's are, and its
    ``password_file`` is read when the caller has no password. Returns the merged settings and
    the warnings the journal's values give (TLS verification off).
    """
    stored = stored_settings(journal)
    if settings.password:
        stored.pop("password_file", None)  # not read: the caller's password wins
    layer, warnings = load_settings({}, {}, None, stored=stored)
    defaults = Settings()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in dataclasses.fields(Settings):
        key = field.name
        if key == "sources":
            continue
        own = key in settings.sources or getattr(settings, key) != getattr(defaults, key)
        source = settings if own else layer
        values[key] = getattr(source, key)
        if key in source.sources:
            sources[key] = source.sources[key]
    merged = Settings(**values, sources=sources)
    check_relations(merged)
    from_journal = sources.get("verify_tls") == "journal"
    return merged, warnings if from_journal and not merged.verify_tls else []
