"""The public API: :class:`BulkRemover`, which the command line uses too.

    from bulkremove import BulkRemover, Settings

    settings = Settings(base_url="https://acme.thulium.com/api", username="api_user",
                        password=secret, campaign="00001", max_delete=50_000)
    async with BulkRemover(settings) as remover:
        result = await remover.run(["ids.txt"])         # read, count, check, send, report
        if result.exit_code == 4:                       # records left in a call
            result = await remover.resume(result.report["journal"])

    # or plan first: a dry run keeps its journal, and resuming it sends exactly that plan
        plan = await remover.plan(["ids.txt"])
        result = await remover.resume(plan.journal)

Every run is counted before anything is sent: ``max_delete`` refuses a run that is too large,
and ``confirm`` (if given) is asked with the plan and may say no. Both refusals raise
:class:`bulkremove.errors.RefusedError` and send nothing. A library caller is not asked by
default: calling :meth:`BulkRemover.run` is the deliberate act. ``metrics_file`` in the settings
is written as the command line writes it. The flow itself is :mod:`bulkremove.run`'s, which the
command line and the demo use too; a remover adds the shared connection pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Self

import bulkremove.run as orchestrator
from bulkremove.plan import Plan
from bulkremove.progress import CallbackProgress, Progress, ProgressSink
from bulkremove.run import Confirm, JobResult
from bulkremove.settings import Settings

if TYPE_CHECKING:
    from bulkremove.client import Client


class BulkRemover:
    """Removes records as the command line does, from Python code.

    Use it as ``async with BulkRemover(settings) as remover``: the runs of one remover share one
    connection pool, closed when the block ends.

    ``confirm`` is asked with the :class:`~bulkremove.plan.Plan` of each run that would send
    something; False (or raising :class:`~bulkremove.errors.RefusedError`) refuses it.
    ``on_progress`` is called with a :class:`~bulkremove.progress.Progress` every
    ``progress_interval`` seconds of a run (default: the settings' ``progress_interval``) and once
    at the end. ``progress`` takes sinks of your own. ``handle_signals`` makes SIGINT and SIGTERM
    stop a run gracefully (exit code 130, resumable); only the main thread can take them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        confirm: Confirm | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        progress_interval: float | None = None,
        progress: Sequence[ProgressSink] = (),
        handle_signals: bool = False,
    ) -> None:
        self.settings = settings
        self._confirm = confirm
        self._sinks = list(progress)
        if on_progress is not None:
            interval = progress_interval or settings.progress_interval
            self._sinks.append(CallbackProgress(on_progress, interval))
        self._handle_signals = handle_signals
        self._client: Client | None = None
        self._entered = False

    async def __aenter__(self) -> Self:
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entered = False
        if self._client is not None:
            client, self._client = self._client, None
            await client.__aexit__(exc_type, exc, tb)

    async def plan(
        self,
        inputs: Sequence[str] = (),
        *,
        journal: str | None = None,
        resume: str | None = None,
    ) -> Plan:
        """A dry run: read ``inputs`` (or look at the journal ``resume``), count, send nothing.

        The new journal is kept, marked ``dry_run``: :meth:`resume` on it sends what was planned.
        A plan of a resume changes nothing in that journal. ``max_delete`` does not refuse a dry
        run; ``plan.over_limit`` says whether it would refuse the real one.
        """
        return await orchestrator.plan(self.settings, inputs=inputs, journal=journal, resume=resume)

    async def run(self, inputs: Sequence[str], *, journal: str | None = None) -> JobResult:
        """Remove the ids listed in ``inputs`` (files; ``-`` is stdin) into a new journal.

        With ``where`` in the settings give no inputs: the records the API lists with those
        filters are removed (see :mod:`bulkremove.listing.selection`).

        ``journal`` is its path (default: ``<journal_dir>/<UTC time>-<campaign>.sqlite``).
        Raises :class:`~bulkremove.errors.UsageError` (input, settings, refusals; nothing sent, the
        new journal removed), :class:`~bulkremove.errors.JournalError`; a fatal API answer is
        not raised but reported, with exit code 3.
        """
        if not inputs and self.settings.where is None:
            raise ValueError("give at least one input, or where in the settings")
        return await self._run(inputs, journal, None)

    async def resume(self, journal: str) -> JobResult:
        """Continue the run of ``journal``: its pending, ``in_call`` and ``failed`` records.

        The journal's recorded settings fill every key this remover's settings leave at its
        default (see :mod:`bulkremove.resume`); consent is never taken from the journal.
        """
        return await self._run((), None, journal)

    async def _run(
        self, inputs: Sequence[str], journal: str | None, resume: str | None
    ) -> JobResult:
        return await orchestrator.run(
            self.settings,
            inputs=inputs,
            journal=journal,
            resume=resume,
            confirm=self._confirm,
            progress=self._sinks,
            client=self._shared_client,
            handle_signals=self._handle_signals,
        )

    async def _shared_client(self, settings: Settings) -> Client | None:
        """The remover's pool inside ``async with``, for runs with the remover's own settings."""
        if not self._entered or settings != self.settings:
            return None
        if self._client is None:
            from bulkremove.client import Client  # the HTTP stack loads once it is needed

            client = Client(self.settings)
            await client.__aenter__()
            self._client = client
        return self._client
