"""A whole removal job: input into a new journal (or a journal resumed), the engine, the report.

This is the library's entry point; the command line is a thin layer over :func:`run_job`.
Nothing is sent before the input is read in full and found valid, and before the settings
name an API root and credentials.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from bulkremove.client import Client
from bulkremove.engine import Engine
from bulkremove.errors import BulkRemoveError, FatalApiError, InputError
from bulkremove.ingest import InputReader
from bulkremove.journal import Journal
from bulkremove.logs import get_logger
from bulkremove.report import (
    EXIT_FATAL_API,
    EXIT_INTERRUPTED,
    build_report,
    exit_code_for,
)
from bulkremove.settings import Settings, require_api


@dataclass(frozen=True, slots=True)
class JobResult:
    """The report of the run (see :mod:`bulkremove.report`) and its exit code."""

    report: dict[str, Any]
    exit_code: int


def default_journal_path(settings: Settings, now: float | None = None) -> Path:
    """``<journal_dir>/<UTC timestamp>-<campaign>.sqlite``."""
    stamp = datetime.fromtimestamp(now or time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{settings.campaign or 'multi'}.sqlite"
    return Path(settings.journal_dir) / name


def prepare_journal(settings: Settings, inputs: Sequence[str], path: Path) -> Journal:
    """Create the journal at ``path`` and read every input id into it as pending.

    Refuses (InputError, the journal removed) when a line is invalid and ``skip_invalid`` is off.
    """
    log = get_logger("ingest")
    journal = Journal.create(str(path), settings.public())
    try:
        reader = InputReader(inputs, settings.campaign)
        new = journal.add_pending(reader)
        stats = reader.stats
        if stats.invalid and not settings.skip_invalid:
            raise InputError(stats.invalid_message())
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


async def run_job(
    settings: Settings,
    *,
    inputs: Sequence[str] = (),
    journal_path: str | None = None,
    resume: str | None = None,
    handle_signals: bool = False,
) -> JobResult:
    """Run a removal: new from ``inputs``, or continuing the journal ``resume``.

    With ``handle_signals``, SIGINT and SIGTERM stop the run, commit what was received, and give
    exit code 130; the journal can then be resumed.
    """
    require_api(settings)
    log = get_logger("run")
    if resume:
        path = Path(resume)
        journal = Journal.open(resume, write=True)
        again = journal.reset_for_resume()
        log.info("journal_resumed", journal=str(path), retried=again)
    else:
        path = Path(journal_path) if journal_path else default_journal_path(settings)
        log.info("journal_created", journal=str(path))
        journal = await anyio.to_thread.run_sync(prepare_journal, settings, inputs, path)
    try:
        return await _run_engine(settings, journal, path, handle_signals)
    finally:
        journal.close()


async def _run_engine(
    settings: Settings, journal: Journal, path: Path, handle_signals: bool
) -> JobResult:
    log = get_logger("run")
    started = time.monotonic()
    journal.set_meta("state", "running")
    journal.set_meta("exit_code", None)
    journal.set_meta("pid", os.getpid())
    interrupt = _Interrupt()
    code: int | None = None
    engine: Engine | None = None
    try:
        async with Client(settings) as client, anyio.create_task_group() as group:
            engine = Engine(settings, journal, client)
            if handle_signals:
                group.start_soon(
                    _watch_signals, group.cancel_scope, engine, settings.grace_period, interrupt
                )
            await engine.run()
            group.cancel_scope.cancel()
    except BaseExceptionGroup as group_error:
        error = _first_error(group_error)
        if isinstance(error, FatalApiError):
            code = _aborted(journal, error)
        elif isinstance(error, BulkRemoveError):
            raise error from None
        else:
            raise
    except FatalApiError as fatal:
        code = _aborted(journal, fatal)
    finally:
        if engine is not None:
            previous = int(journal.get_meta("requests") or 0)
            journal.set_meta("requests", previous + engine.stats.requests)
        took = float(journal.get_meta("duration_s") or 0.0) + time.monotonic() - started
        journal.set_meta("duration_s", took)

    report = build_report(journal, str(path))
    if code is None:
        code = EXIT_INTERRUPTED if interrupt.signal else exit_code_for(report["totals"])
    state = {EXIT_INTERRUPTED: "interrupted", EXIT_FATAL_API: "aborted"}.get(code, "finished")
    journal.set_meta("state", state)
    journal.set_meta("exit_code", code)
    report = build_report(journal, str(path))
    stats = engine.stats if engine is not None else None
    log.info(
        "run_finished",
        state=state,
        exit_code=code,
        requests=stats.requests if stats else 0,
        errors=stats.by_error if stats else {},
        **report["totals"],
        duration_s=report["duration_s"],
    )
    return JobResult(report, code)


@dataclass(slots=True)
class _Interrupt:
    signal: str | None = None


async def _watch_signals(
    scope: anyio.CancelScope, engine: Engine, grace: float, interrupt: _Interrupt
) -> None:
    """First signal: stop sending, give answers in flight ``grace`` seconds. Second: stop now."""
    log = get_logger("run")
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            if interrupt.signal is None:
                interrupt.signal = name
                log.warning("run_stopping", signal=name, grace_period_s=grace)
                engine.stop()
                scope.deadline = anyio.current_time() + grace
            else:
                log.warning("run_stopped_now", signal=name)
                scope.cancel()
                return


def _aborted(journal: Journal, error: FatalApiError) -> int:
    journal.set_meta("aborted", str(error))
    get_logger("run").error("run_aborted", error=str(error))
    return EXIT_FATAL_API


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException | None:
    """The first exception of a task group's failure that is not a cancellation."""
    cancelled = anyio.get_cancelled_exc_class()
    for exc in _leaves(group):
        if not isinstance(exc, cancelled):
            return exc
    return None


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]
