"""A verification as a command runs it: the journal opened, the API asked, the findings kept.

The journal is opened for writing, so no run can change it meanwhile (a journal a run holds is
refused); its records are only read. What was found is written at the end, in one transaction:
an interrupted verification leaves the journal as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio

from bulkremove.errors import BulkRemoveError
from bulkremove.exits import EXIT_OK, Where, exit_code_for_error
from bulkremove.journal import Journal
from bulkremove.logs import get_logger
from bulkremove.report import verified_section
from bulkremove.settings import Settings, require_api
from bulkremove.verify.kinds import checking_for
from bulkremove.verify.proof import Verification, record, verify
from bulkremove.verify.ways import Records


async def verify_journal(
    settings: Settings,
    path: str,
    *,
    sample: int | None,
    seed: int | None = None,
    source: Records | None = None,
) -> Verification:
    """Verify the journal at ``path`` with ``settings`` (its own, merged as a resume merges
    them); ``sample`` None checks every decided record. ``source`` replaces the API."""
    require_api(settings)
    journal = await anyio.to_thread.run_sync(
        lambda: Journal.open(path, write=True, durable=settings.durable)
    )
    try:
        kind = checking_for(journal.get_meta("settings") or {}, path)
        async with _records(settings, source) as api:
            found = await verify(
                journal, api, kind, sample=sample, seed=seed, workers=settings.concurrency
            )
        record(journal, found)
    finally:
        journal.close()
    get_logger("verify").info("journal_verified", journal=path, **found.figures())
    return found


@contextlib.asynccontextmanager
async def _records(settings: Settings, source: Records | None) -> AsyncIterator[Records]:
    if source is not None:
        yield source
        return
    from bulkremove.verify.api import api_records  # the HTTP stack loads once it is needed

    async with api_records(settings) as api:
        yield api


@dataclass(frozen=True, slots=True)
class AfterRun:
    """A verification at the end of a run, and the run's exit code it leaves."""

    verification: Verification | None
    exit_code: int
    error: str | None
    """Why the verification could not be made, for people; None when it was."""
    section: dict[str, Any] | None
    """The report's ``verified`` section."""


async def verify_after_run(
    settings: Settings, path: str, run_code: int, *, source: Records | None = None
) -> AfterRun:
    """``run --verify``: verify a sample of the journal a run just finished.

    The run's exit code stays, unless the run was clean (0): then it becomes the verification's,
    7 when the API contradicts the journal, or the code of the error that stopped it (3 for the
    API, 2 for the journal). The journal's ``exit_code`` says the same.
    """
    found, error, code = None, None, run_code
    try:
        found = await verify_journal(settings, path, sample=settings.verify_sample, source=source)
    except BulkRemoveError as exc:
        error = f"verify could not finish: {exc}"
        get_logger("verify").error("verify_failed", journal=path, error=str(exc))
        if run_code == EXIT_OK:
            code = exit_code_for_error(exc, Where.BEFORE_SENDING)
    else:
        if run_code == EXIT_OK:
            code = found.exit_code

    def reread() -> dict[str, Any] | None:
        with Journal.open(path, write=code != run_code, durable=settings.durable) as journal:
            if code != run_code:
                journal.set_meta("exit_code", code)
            return verified_section(journal)

    section = await anyio.to_thread.run_sync(reread)
    return AfterRun(found, code, error, section)
