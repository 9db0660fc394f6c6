"""The plan stage of a run: the input read into a new journal (or a journal opened to resume),
and the run planned. Nothing is sent.

Nothing is read before the settings name an API root (and, for a real run, credentials), and
a journal this stage created is removed again when the stage fails, so a refused run leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bulkremove.errors import ConfigError, InputError, JournalError
from bulkremove.ingest import InputReader
from bulkremove.journal import Journal
from bulkremove.kinds import kind_of
from bulkremove.logs import get_logger
from bulkremove.outputs import SkippedLines, skipped_lines_path
from bulkremove.plan import Plan, make_plan
from bulkremove.settings import Settings, require_api
from bulkremove.startup import then_import as import_after


@dataclass(slots=True)
class PreparedRun:
    """A journal read in (or opened to resume) and planned; nothing has been sent.

    Hand it to :func:`bulkremove.run.execute`, or :meth:`discard` it: a journal this run
    created is then removed, a resumed one is left as it was.
    """

    settings: Settings
    journal: Journal
    path: Path
    plan: Plan
    created: bool
    dry_run: bool = False

    def discard(self) -> None:
        """Close the journal; remove it if this run created it."""
        self.journal.close()
        if self.created:
            remove_journal(self.path)


def default_journal_path(settings: Settings, now: float | None = None) -> Path:
    """``<journal_dir>/<UTC time to the ms>-<campaign>-<4 random hex>.sqlite``.

    The time makes names sort as the runs started; the random part keeps two runs started in
    the same millisecond (two cron jobs, a retry loop) apart.
    """
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"
    folder = Path(settings.journal_dir)
    while True:
        path = folder / f"{stamp}-{settings.campaign or 'multi'}-{secrets.token_hex(2)}.sqlite"
        if not path.exists():
            return path


def prepare_journal(
    settings: Settings, inputs: Sequence[str], path: Path, *, then_import: Sequence[str] = ()
) -> Journal:
    """Create the journal at ``path`` and read every input id into it as pending.

    ``then_import`` names modules to import on a thread once the last line is read
    (:func:`bulkremove.startup.then_import`). Refuses (InputError, the journal removed) when a
    line is invalid and ``skip_invalid`` is off.
    """
    log = get_logger("ingest")
    journal = Journal.create(str(path), settings.public(), durable=settings.durable)
    skipped = SkippedLines(skipped_lines_path(path)) if settings.skip_invalid else None
    try:
        reader = InputReader(inputs, settings.campaign, kind_of(settings).reading)
        reader.stats.listing = skipped.add if skipped else None
        batches = import_after(reader, then_import) if then_import else reader
        try:
            new = journal.add_pending(batches)
        finally:
            if skipped:
                skipped.close()
        stats = reader.stats
        if stats.invalid and not settings.skip_invalid:
            raise InputError(
                f"{stats.invalid_message()}\n{stats.invalid} invalid "
                f"line{'' if stats.invalid == 1 else 's'} in all; nothing sent: "
                f"fix them, or --skip-invalid goes on without them, listing each in "
                f"{skipped_lines_path(path)}"
            )
        if skipped and skipped.count:
            journal.set_meta("skipped_lines", str(skipped.path))
            log.info("invalid_lines_skipped", count=skipped.count, listed_in=str(skipped.path))
        input_stats = {
            "lines": stats.lines,
            "ids": new,
            "duplicates": stats.ids - new,
            "invalid": stats.invalid,
        }
        journal.set_meta("input", input_stats)
        journal.set_meta("state", "ready")
        log.info("input_read", **input_stats)
        return journal
    except BaseException:
        journal.close()
        remove_journal(path)
        raise


def remove_journal(path: Path) -> None:
    """Remove a journal that was refused before anything was sent, with its side files."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(skipped_lines_path(path))


def prepare_run(
    settings: Settings,
    *,
    inputs: Sequence[str] = (),
    journal_path: str | None = None,
    resume: str | None = None,
    dry_run: bool = False,
) -> PreparedRun:
    """Read ``inputs`` into a new journal, or open the journal ``resume``, and plan the run.

    Sends nothing. A real run needs an API root and credentials; a dry run only the API root (the
    plan depends on the request path). A dry run's new journal is kept and marked ``dry_run``, so
    that resuming it sends exactly what was planned; a dry run of a resume opens the journal
    read-only and changes nothing.
    """
    if resume and inputs:
        raise ValueError("a resume reads its journal's own records: give no inputs")
    if dry_run:
        _require_base_url(settings)
    else:
        require_api(settings)
    log = get_logger("run")
    if resume:
        path = Path(resume)
        journal = Journal.open(resume, write=not dry_run, durable=settings.durable)
        if journal.get_meta("input") is None:
            journal.close()
            # Killed while reading the input: its ids are not all in, and resuming would
            # quietly send only some of them.
            raise JournalError(
                f"{resume}: the run stopped while reading its input, so the journal does not "
                "hold all the ids; start the run again from the input files"
            )
        kept = kind_of(journal.get_meta("settings") or {}).name
        if kind_of(settings).name != kept:
            journal.close()
            # its keys are of the kind it was made with: read as another they mean other records
            raise ConfigError(
                f"{resume} holds keys of target = {kept!r}: a resume cannot change the target"
            )
    else:
        path = Path(journal_path) if journal_path else default_journal_path(settings)
        log.info("journal_created", journal=str(path))
        # A dry run sends nothing: it needs neither the engine nor the HTTP stack.
        sending = () if dry_run else ("bulkremove.client", "bulkremove.engine")
        journal = prepare_journal(settings, inputs, path, then_import=sending)
    created = not resume
    try:
        plan = make_plan(journal, settings, resumed=bool(resume), name=str(path))
        if dry_run and created:
            journal.set_meta("state", "dry_run")
    except BaseException:
        journal.close()
        if created:
            remove_journal(path)
        raise
    log.info(
        "run_planned",
        target=plan.target,
        ids=plan.ids,
        campaigns=len(plan.campaigns),
        requests=plan.requests,
        dry_run=dry_run,
    )
    return PreparedRun(settings, journal, path, plan, created, dry_run)


def _require_base_url(settings: Settings) -> None:
    if not settings.base_url:
        raise ConfigError(
            "no API root: give --base-url, BULKREMOVE_BASE_URL or base_url in the config file"
        )
