"""The one orchestrator of a removal: plan -> checks -> consent -> execute -> report.

- **plan** (:mod:`bulkremove.prepared`): the settings are checked for an API root and
  credentials, the input is read into a new journal (or the journal to resume is opened, its
  recorded settings merged under the caller's, see :mod:`bulkremove.resume`), the run is
  counted and its snapshot planned (:mod:`bulkremove.snapshot`). A run by selection lists its
  records into the journal instead (:mod:`bulkremove.listing.selection`): GETs only. Nothing is
  removed; a dry run (:func:`plan`) stops here and keeps its journal.
- **checks**: ``max_delete`` refuses a run that would send too many ids.
- **consent**: ``confirm``, when given, is asked with the plan and may say no.
- **execute**: the snapshot is taken; the engine sends, beside the signal watcher and progress feed.
- **report**: the journal's counts give the report and the exit code (:mod:`bulkremove.exits`);
  the metrics file, when set, is written at the end, also for a run that failed. ``verify``
  then verifies a finished run (:func:`bulkremove.verify.job.verified_run`).

A refusal in the first three stages raises :class:`~bulkremove.errors.UsageError` (the new
journal removed); a fatal API answer during execute is not raised but reported (exit code 3).
The command line and :class:`bulkremove.BulkRemover` call :func:`run` and :func:`plan`; so does
the demo.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from bulkremove.clients import ClientSource, client_for
from bulkremove.endings import aborted_line, failed_reason, journal_failed
from bulkremove.errors import (
    BulkRemoveError,
    EmptyInputError,
    FatalApiError,
    JournalError,
    RefusedError,
)
from bulkremove.exits import (
    EXIT_FATAL_API,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Where,
    exit_code_for,
    exit_code_for_error,
    mark_after_sending_started,
)
from bulkremove.logs import get_logger
from bulkremove.metrics import MetricsFile, MetricsProgress
from bulkremove.plan import Plan
from bulkremove.prepared import PreparedRun, prepare_run
from bulkremove.progress import Progress, ProgressMeter, ProgressSink
from bulkremove.progress_feed import feed_progress, measure
from bulkremove.report import build_report
from bulkremove.resume import resume_settings
from bulkremove.settings import Settings, require_api
from bulkremove.signals import Interrupt, watch_signals
from bulkremove.snapshot import plan_snapshot, take_snapshot
from bulkremove.tally import Tally, TallyingStore, engine_figures
from bulkremove.verify import Verification
from bulkremove.verify.job import verified_run

if TYPE_CHECKING:
    from bulkremove.engine import Engine

Confirm = Callable[[Plan], bool | Awaitable[bool]]
"""Asked with the plan before anything is sent; False refuses the run."""

_E = TypeVar("_E", bound=BaseException)


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
    error: str | None = None
    """Why the run was aborted (exit code 3), with what to do about it; one line for people."""
    failed_reason: str | None = None
    """The reason one of the ``failed`` records gives (its journal ``detail``), shortened."""
    verification: Verification | None = None
    """What ``verify`` found at the end of the run, when it was asked for and could be made."""

    @property
    def ok(self) -> bool:
        """True when every record is removed or not found (exit code 0)."""
        return self.exit_code == EXIT_OK


async def plan(
    settings: Settings,
    *,
    inputs: Sequence[str] = (),
    journal: str | None = None,
    resume: str | None = None,
) -> Plan:
    """A dry run: the plan stage alone. A new journal is kept, marked ``dry_run``."""
    if resume:
        settings = resume_settings(settings, resume)
    prepared = await _prepare(settings, inputs, journal, resume, dry_run=True)
    if not prepared.plan.resumed:  # a resumed journal is left unchanged
        prepared.journal.set_meta("plan", prepared.plan.as_dict())
    prepared.journal.close()
    return prepared.plan


async def run(
    settings: Settings,
    *,
    inputs: Sequence[str] = (),
    journal: str | None = None,
    resume: str | None = None,
    confirm: Confirm | None = None,
    progress: Sequence[ProgressSink] = (),
    client: ClientSource | None = None,
    handle_signals: bool = False,
) -> JobResult:
    """A whole run: read ``inputs`` into a new journal (or ``resume`` one) and remove its ids.

    ``journal`` is the new journal's path (default ``<journal_dir>/<UTC time>-<campaign>.sqlite``).
    ``progress`` sinks are fed during execute; with ``handle_signals`` SIGINT and SIGTERM stop
    the run gracefully (exit code 130, resumable).
    """
    if resume:
        settings = resume_settings(settings, resume)
    metrics = _metrics_file(settings)
    try:
        prepared = await _prepare(settings, inputs, journal, resume, dry_run=False, client=client)
        try:
            check_not_empty(prepared.plan, settings)
            check_max_delete(prepared.plan, settings)
            if prepared.plan.ids and confirm is not None:
                await _consent(confirm, prepared.plan)
        except BaseException:
            prepared.discard()
            raise
        sinks = list(progress)
        if metrics is not None:
            interval = settings.progress_interval
            sinks.append(MetricsProgress(metrics, str(prepared.path), interval))
        result = await execute(
            prepared, client=client, handle_signals=handle_signals, progress=sinks
        )
        if settings.verify and result.report["state"] == "finished":
            result = await verified_run(settings, result)
    except (Exception, KeyboardInterrupt) as exc:
        if metrics is not None:
            metrics.write(records={}, exit_code=exit_code_for_error(exc))
        raise
    if metrics is not None:
        final = result.progress
        metrics.write(
            records=result.report["campaigns"],
            requests=final.requests if final else 0,
            errors=final.errors if final else None,
            exit_code=result.exit_code,
        )
    return result


def check_not_empty(plan: Plan, settings: Settings) -> None:
    """Refuse (EmptyInputError) a new run whose input held no ids, unless ``allow_empty``."""
    if plan.ids == 0 and not plan.resumed and not settings.allow_empty:
        what = "the selection matched no records" if plan.selection else "the input holds no ids"
        raise EmptyInputError(
            f"{what}: nothing sent; an empty export is taken for an incident "
            "(exit 6): --allow-empty (allow_empty = true) makes it a success"
        )


def check_max_delete(plan: Plan, settings: Settings) -> None:
    """Refuse (RefusedError) a run that would send more ids than ``max_delete``."""
    if plan.over_limit:
        source = settings.sources.get("max_delete", "settings")
        raise RefusedError(
            f"this run would send {plan.ids} {plan.keys_word}, {plan.over_limit} more than "
            f"max_delete = "
            f"{plan.max_delete} (from {source}); nothing sent"
        )


async def execute(
    prepared: PreparedRun,
    *,
    client: ClientSource | None = None,
    handle_signals: bool = False,
    progress: Sequence[ProgressSink] = (),
) -> JobResult:
    """Send a prepared run and report; the journal is closed when this returns.

    A resumed journal's ``in_call`` and ``failed`` records are put back to pending first, and
    the snapshot the plan chose is taken (or finished) before anything is sent.
    """
    if prepared.dry_run:
        prepared.journal.close()
        raise ValueError("a dry run's prepared journal cannot be executed: resume it instead")
    journal = prepared.journal
    try:
        if prepared.plan.resumed:
            again = await anyio.to_thread.run_sync(journal.reset_for_resume)
            get_logger("run").info("journal_resumed", journal=str(prepared.path), retried=again)
        await take_snapshot(prepared, client)
        return await _execute(prepared, client, handle_signals, progress)
    finally:
        journal.close()


async def _prepare(
    settings: Settings,
    inputs: Sequence[str],
    journal: str | None,
    resume: str | None,
    *,
    dry_run: bool,
    client: ClientSource | None = None,
) -> PreparedRun:
    if settings.where is not None:
        # a run by selection lists its records first (GETs only), unless its listing is over
        import bulkremove.listing.selection as selection

        if not resume or selection.listing_state(resume) != selection.AGREED:
            selection.check_selection(settings, inputs)
            require_api(settings)  # listing needs credentials, even for a dry run
            async with client_for(settings, client) as getter:
                return await selection.prepare_selection(
                    settings, getter, journal_path=journal, resume=resume, dry_run=dry_run
                )
    prepare = functools.partial(
        prepare_run, settings, inputs=inputs, journal_path=journal, resume=resume, dry_run=dry_run
    )
    return await plan_snapshot(await anyio.to_thread.run_sync(prepare), client)


async def _consent(confirm: Confirm, plan: Plan) -> None:
    answer = confirm(plan)
    if inspect.isawaitable(answer):
        answer = await answer
    if not answer:
        raise RefusedError("not confirmed: nothing sent")


def _metrics_file(settings: Settings) -> MetricsFile | None:
    if not settings.metrics_file:
        return None
    metrics = MetricsFile(settings.metrics_file, durable=settings.durable, job=settings.job)
    metrics.check()
    return metrics


@dataclass(slots=True)
class _Sending:
    """What the execute stage leaves for the report stage."""

    tally: Tally
    engine: Engine | None = None
    interrupt: Interrupt = field(default_factory=Interrupt)
    aborted: FatalApiError | None = None


async def _execute(
    prepared: PreparedRun,
    client: ClientSource | None,
    handle_signals: bool,
    sinks: Sequence[ProgressSink],
) -> JobResult:
    journal = prepared.journal
    plan = prepared.plan.as_dict()  # the HTML report shows what the last run set out to do
    journal.set_metas({"state": "running", "exit_code": None, "pid": os.getpid(), "plan": plan})
    meter = ProgressMeter(prepared.plan.ids)
    sending = _Sending(Tally(journal))
    result: JobResult | None = None
    ending = "stopped"  # the last frame's word for a run that ended in an error
    for sink in sinks:
        sink.start(prepared.plan)
    try:
        try:
            await _send(prepared, client, handle_signals, sinks, meter, sending)
        except BaseException:
            with contextlib.suppress(JournalError):  # the error in flight says more
                sending.tally.write()
            raise
        else:
            sending.tally.write()
        result = _report(prepared, sending, meter)
    except JournalError as exc:
        if sending.engine is None:
            raise
        ending = "journal_failed"
        raise journal_failed(prepared.journal, prepared.path, exc) from exc
    finally:
        if sinks:
            last = result.progress if result else None
            last = last or measure(meter, sending.engine, final=True, ending=ending)
            for sink in sinks:
                sink.finish(last)
    final = result.progress
    assert final is not None
    get_logger("run").info(
        "run_finished",
        state=result.report["state"],
        exit_code=result.exit_code,
        requests=final.requests,
        errors=dict(final.errors),
        **result.report["totals"],
        records_removed=result.report["records_removed"],
        duration_s=result.report["duration_s"],
    )
    return result


async def _send(
    prepared: PreparedRun,
    client: ClientSource | None,
    handle_signals: bool,
    sinks: Sequence[ProgressSink],
    meter: ProgressMeter,
    sending: _Sending,
) -> None:
    """Run the engine, with the signal watcher and the progress feed beside it."""
    from bulkremove.engine import Engine  # the HTTP stack loads once it is needed

    settings = prepared.settings
    try:
        try:
            async with client_for(settings, client) as sender, anyio.create_task_group() as group:
                store = TallyingStore(prepared.journal, sending.tally)
                engine = Engine(settings, store, sender)
                sending.engine = engine
                sending.tally.figures = functools.partial(engine_figures, engine)
                if handle_signals:
                    scope, grace = group.cancel_scope, settings.grace_period
                    group.start_soon(watch_signals, scope, engine, grace, sending.interrupt)
                if sinks:
                    group.start_soon(feed_progress, engine, meter, sinks)
                await engine.run()
                group.cancel_scope.cancel()
        except* FatalApiError as fatal:
            sending.aborted = _first(fatal)
        except* BulkRemoveError as errors:
            raise _first(errors) from None
    except BaseException as exc:
        if sending.engine is not None:
            mark_after_sending_started(exc)
        raise


def _report(prepared: PreparedRun, sending: _Sending, meter: ProgressMeter) -> JobResult:
    """The report stage: the exit code and the final state, from the journal's counts."""
    journal = prepared.journal
    report = build_report(journal, str(prepared.path))
    error = None
    if sending.aborted is not None:
        journal.set_meta("aborted", str(sending.aborted))
        get_logger("run").error("run_aborted", error=str(sending.aborted))
        code = exit_code_for_error(sending.aborted, Where.AFTER_SENDING_STARTED)
        error = aborted_line(sending.aborted, prepared.plan)
    elif sending.interrupt.signal:
        code = EXIT_INTERRUPTED
    else:
        code = exit_code_for(report["totals"])
    state = {EXIT_INTERRUPTED: "interrupted", EXIT_FATAL_API: "aborted"}.get(code, "finished")
    journal.set_meta("state", state)
    journal.set_meta("exit_code", code)
    report.update(state=state, exit_code=code)  # as build_report reads them back
    totals = report["totals"]
    in_call, pending, engine = totals["in_call"], totals["pending"], sending.engine
    final = measure(meter, engine, final=True, in_call=in_call, pending=pending, ending=state)
    return JobResult(report, code, prepared.plan, final, error, failed_reason(journal))


def _first(group: BaseExceptionGroup[_E]) -> _E:
    """The first exception of a task group's failure, inside any nested groups."""
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first
