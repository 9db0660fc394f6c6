"""A verification as a command runs it: the journal opened, the API asked, the findings kept.

The journal is opened for writing, so no run can change it meanwhile (a journal a run holds is
refused); its records are only read. What was found is written at the end, in one transaction:
an interrupted verification leaves the journal as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from bulkremove.errors import BulkRemoveError, JournalError
from bulkremove.exits import EXIT_OK, Where, exit_code_for_error
from bulkremove.journal import Journal
from bulkremove.kinds import KINDS, Kind, kind_of
from bulkremove.logs import get_logger
from bulkremove.report import verified_section
from bulkremove.settings import Settings, require_api
from bulkremove.verify.proof import Verification, record, verify
from bulkremove.verify.ways import Records

if TYPE_CHECKING:
    from bulkremove.run import JobResult


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
        kind = checked_kind(journal.get_meta("settings") or {}, path)
        async with _records(settings, source) as api:
            found = await verify(
                journal, api, kind, sample=sample, seed=seed, workers=settings.concurrency
            )
        record(journal, found)
    finally:
        journal.close()
    get_logger("verify").info("journal_verified", journal=path, **found.figures())
    return found


def checked_kind(settings: Mapping[str, Any], journal: str) -> Kind:
    """The kind of key of a journal whose recorded settings are ``settings``."""
    target = settings.get("target")
    if target is not None and target not in KINDS:
        raise JournalError(
            f"{journal}: its target {target!r} cannot be verified by this bulkremove"
        )
    return kind_of(settings)


@contextlib.asynccontextmanager
async def _records(settings: Settings, source: Records | None) -> AsyncIterator[Records]:
    if source is not None:
        yield source
        return
    from bulkremove.verify.api import api_records  # the HTTP stack loads once it is needed

    async with api_records(settings) as api:
        yield api


async def verified_run(
    settings: Settings, result: JobResult, *, source: Records | None = None
) -> JobResult:
    """``run --verify``: ``result`` of a finished run, with a sample of its journal verified.

    The run's exit code stays, unless the run was clean (0): then it becomes the verification's,
    7 when the API contradicts the journal, or the code of the error that stopped it (3 for the
    API, 2 for the journal), whose line is the result's ``error``. The report and the journal's
    ``exit_code`` say the same.
    """
    path, code = result.report["journal"], result.exit_code
    found, error = None, None
    try:
        found = await verify_journal(settings, path, sample=settings.verify_sample, source=source)
    except BulkRemoveError as exc:
        error = f"verify could not finish: {exc}"
        get_logger("verify").error("verify_failed", journal=path, error=str(exc))
        if code == EXIT_OK:
            code = exit_code_for_error(exc, Where.BEFORE_SENDING)
    else:
        if code == EXIT_OK:
            code = found.exit_code

    def reread() -> dict[str, Any] | None:
        changed = code != result.exit_code
        with Journal.open(path, write=changed, durable=settings.durable) as journal:
            if changed:
                journal.set_meta("exit_code", code)
            return verified_section(journal)

    report = {
        **result.report,
        "exit_code": code,
        "verified": await anyio.to_thread.run_sync(reread),
    }
    return dataclasses.replace(
        result, report=report, exit_code=code, verification=found, error=result.error or error
    )
