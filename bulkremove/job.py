"""A whole removal job, in two steps: prepare, then execute.

:func:`prepare_run` reads the input into a new journal (or opens one to resume) and plans the run
(:mod:`bulkremove.plan`); nothing is sent. Between the two steps the caller decides: a dry run
stops there, :func:`check_max_delete` may refuse, a question may be asked. :func:`execute` runs
the engine and returns the report. :class:`bulkremove.remover.BulkRemover` (the public API, which
the command line uses) and :func:`run_job` put the steps together.

Nothing is sent before the input is read in full and found valid, and before the settings name an
API root and credentials.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from bulkremove.errors import (
    BulkRemoveError,
    ConfigError,
    FatalApiError,
    InputError,
    JournalError,
    RefusedError,
)
from bulkremove.ingest import IdBatch, InputReader
from bulkremove.journal import Journal
from bulkremove.logs import get_logger
from bulkremove.plan import Plan, make_plan
from bulkremove.progress import Progress, ProgressMeter, ProgressSink
from bulkremove.report import (
    EXIT_FATAL_API,
    EXIT_INTERRUPTED,
    EXIT_OK,
    build_report,
    exit_code_for,
)
from bulkremove.settings import Settings, require_api

if TYPE_CHECKING:
    from bulkremove.client import Client
    from bulkremove.engine import Engine


@dataclass(frozen=True, slots=True)
class JobResult:
    """The report of the run (see :mod:`bulkremove.report`) and its exit code.

    ``plan`` is what the run set out to send; ``progress`` the final figures of this run (None
    for a dry run, which sends nothing).
    """

    report: dict[str, Any]
    exit_code: int
    plan: Plan | None = None
    progress: Progress | None = None

    @property
    def ok(self) -> bool:
        """True when every record is removed or not found (exit code 0)."""
        return self.exit_code == EXIT_OK


@dataclass(slots=True)
class PreparedRun:
    """A journal read in (or opened to resume) and planned; nothing has been sent.

    Hand it to :func:`execute`, or :meth:`discard` it: a journal this run created is then
    removed, a resumed one is left as it was.
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
    """``<journal_dir>/<UTC timestamp>-<campaign>.sqlite``."""
    stamp = datetime.fromtimestamp(now or time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{settings.campaign or 'multi'}.sqlite"
    return Path(settings.journal_dir) / name


def prepare_journal(
    settings: Settings,
    inputs: Sequence[str],
    path: Path,
    *,
    when_read: Callable[[], object] | None = None,
) -> Journal:
    """Create the journal at ``path`` and read every input id into it as pending.

    Refuses (InputError, the journal removed) when a line is invalid and ``skip_invalid`` is off.
    ``when_read`` is called once the last line is read, as SQLite starts on the ids it holds.
    """
    log = get_logger("ingest")
    journal = Journal.create(str(path), settings.public())
    try:
        reader = InputReader(inputs, settings.campaign)
        new = journal.add_pending(reader if when_read is None else _then(reader, when_read))
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
    if dry_run:
        _require_base_url(settings)
    else:
        require_api(settings)
    log = get_logger("run")
    if resume:
        path = Path(resume)
        journal = Journal.open(resume, write=not dry_run)
        if journal.get_meta("input") is None:
            journal.close()
            # Killed while reading the input: its ids are not all in, and resuming would
            # quietly send only some of them.
            raise JournalError(
                f"{resume}: the run stopped while reading its input, so the journal does not "
                "hold all the ids; start the run again from the input files"
            )
    else:
        path = Path(journal_path) if journal_path else default_journal_path(settings)
        log.info("journal_created", journal=str(path))
        load = None if dry_run else functools.partial(_load_in_background, "bulkremove.engine")
        journal = prepare_journal(settings, inputs, path, when_read=load)
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
        ids=plan.ids,
        campaigns=len(plan.campaigns),
        requests=plan.requests,
        dry_run=dry_run,
    )
    return PreparedRun(settings, journal, path, plan, created, dry_run)


def check_max_delete(plan: Plan, settings: Settings) -> None:
    """Refuse (RefusedError) a run that would send more ids than ``max_delete``."""
    if plan.over_limit:
        source = settings.sources.get("max_delete", "settings")
        raise RefusedError(
            f"this run would send {plan.ids} ids, {plan.over_limit} more than max_delete = "
            f"{plan.max_delete} (from {source}); nothing sent"
        )


async def execute(
    prepared: PreparedRun,
    *,
    client: Client | None = None,
    handle_signals: bool = False,
    progress: Sequence[ProgressSink] = (),
) -> JobResult:
    """Send a prepared run and report; the journal is closed when this returns.

    A resumed journal's ``in_call`` and ``failed`` records are put back to pending first. With
    ``handle_signals``, SIGINT and SIGTERM stop the run, commit what was received, and give exit
    code 130; the journal can then be resumed. ``client`` lets several runs share one connection
    pool; without it the run opens its own.
    """
    if prepared.dry_run:
        prepared.journal.close()
        raise ValueError("a dry run's prepared journal cannot be executed: resume it instead")
    journal = prepared.journal
    try:
        if prepared.plan.resumed:
            again = await anyio.to_thread.run_sync(journal.reset_for_resume)
            get_logger("run").info("journal_resumed", journal=str(prepared.path), retried=again)
        return await _run_engine(prepared, client, handle_signals, progress)
    finally:
        journal.close()


async def run_job(
    settings: Settings,
    *,
    inputs: Sequence[str] = (),
    journal_path: str | None = None,
    resume: str | None = None,
    handle_signals: bool = False,
    progress: Sequence[ProgressSink] = (),
) -> JobResult:
    """A whole run without a question: prepare, check ``max_delete``, execute."""
    prepared = await anyio.to_thread.run_sync(
        functools.partial(
            prepare_run, settings, inputs=inputs, journal_path=journal_path, resume=resume
        )
    )
    try:
        check_max_delete(prepared.plan, settings)
    except BaseException:
        prepared.discard()
        raise
    return await execute(prepared, handle_signals=handle_signals, progress=progress)


def _then(items: Iterable[IdBatch], action: Callable[[], object]) -> Iterator[IdBatch]:
    """``items``, then ``action()`` once they are all taken."""
    yield from items
    action()


def _load_in_background(module: str) -> None:
    """Import ``module`` on a thread of its own.

    The engine and the HTTP stack under it take a fifth of a second to import, nearly all of it
    holding the GIL; the journal's insert of the ids read does not hold it. A run starts this
    once its input is read (reading holds the GIL too, and the two slowed each other: 0.08 s
    later to the first request at 300,000 ids), so the import runs beside SQLite's work. The
    import that needs the module waits for this one (Python's import lock); a failure here is
    met again there.
    """
    if module in sys.modules:
        return
    threading.Thread(
        target=_import_quietly, args=(module,), name=f"import {module}", daemon=True
    ).start()


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):
        importlib.import_module(module)


def _require_base_url(settings: Settings) -> None:
    if not settings.base_url:
        raise ConfigError(
            "no API root: give --base-url, BULKREMOVE_BASE_URL or base_url in the config file"
        )


@contextlib.asynccontextmanager
async def _client_for(settings: Settings, client: Client | None) -> AsyncIterator[Client]:
    if client is not None:
        yield client
        return
    from bulkremove.client import Client  # the HTTP stack loads once it is needed

    async with Client(settings) as own:
        yield own


async def _run_engine(
    prepared: PreparedRun,
    client: Client | None,
    handle_signals: bool,
    sinks: Sequence[ProgressSink],
) -> JobResult:
    settings, journal, path = prepared.settings, prepared.journal, prepared.path
    log = get_logger("run")
    started = time.monotonic()
    journal.set_meta("state", "running")
    journal.set_meta("exit_code", None)
    journal.set_meta("pid", os.getpid())
    interrupt = _Interrupt()
    code: int | None = None
    engine: Engine | None = None
    meter = ProgressMeter(prepared.plan.ids)
    final: Progress | None = None
    for sink in sinks:
        sink.start(prepared.plan)
    try:
        try:
            from bulkremove.engine import Engine

            async with _client_for(settings, client) as sender, anyio.create_task_group() as group:
                engine = Engine(settings, journal, sender)
                if handle_signals:
                    group.start_soon(
                        _watch_signals, group.cancel_scope, engine, settings.grace_period, interrupt
                    )
                if sinks:
                    group.start_soon(_report_progress, engine, meter, sinks)
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
        totals = report["totals"]
        final = _measure(
            meter, engine, final=True, in_call=totals["in_call"], pending=totals["pending"]
        )
    finally:
        if sinks:
            last = final or _measure(meter, engine, final=True)
            for sink in sinks:
                sink.finish(last)
    log.info(
        "run_finished",
        state=state,
        exit_code=code,
        requests=final.requests,
        errors=dict(final.errors),
        **totals,
        duration_s=report["duration_s"],
    )
    return JobResult(report, code, prepared.plan, final)


def _measure(
    meter: ProgressMeter,
    engine: Engine | None,
    *,
    final: bool = False,
    in_call: int | None = None,
    pending: int | None = None,
) -> Progress:
    """This run's figures; at the end, ``in_call`` and ``pending`` come from the journal."""
    if engine is None:
        return meter.measure(
            removed=0, not_found=0, failed=0, in_call=in_call or 0, requests=0, rate=None,
            final=final, pending=pending,
        )  # fmt: skip
    committed = engine.stats.committed
    return meter.measure(
        removed=committed.get("removed", 0),
        not_found=committed.get("not_found", 0),
        failed=committed.get("failed", 0),
        in_call=engine.waiting_on_calls if in_call is None else in_call,
        requests=engine.stats.requests,
        rate=engine.rate,
        errors=engine.stats.by_error,
        final=final,
        pending=pending,
    )


async def _report_progress(
    engine: Engine, meter: ProgressMeter, sinks: Sequence[ProgressSink]
) -> None:
    """Feed each sink on its own interval, the first sample at once."""
    async with anyio.create_task_group() as group:
        for sink in sinks:
            group.start_soon(_feed, engine, meter, sink)


async def _feed(engine: Engine, meter: ProgressMeter, sink: ProgressSink) -> None:
    # A task per sink: a slow one (the metrics file counts the journal) never stalls the display.
    while True:
        pending = sink.update(_measure(meter, engine))
        if pending is not None:
            await pending
        await anyio.sleep(sink.interval)


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
