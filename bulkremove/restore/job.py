"""A restore as a command runs it: plan, checks, consent, the adds, and what they did.

The adds go through the listing's request machinery (:class:`bulkremove.listing.Lister`: the
run's rate limiter, adaptive pacing, retries and time-outs), ``concurrency`` of them at a time.
CRM campaigns take batch adds packed by :class:`~bulkremove.restore.budget.BodyBudget`; phone
campaigns one single add per record. Each try is counted in the journal before it is sent, and
each answer kept as it comes: a killed restore, run again, sends only what is still pending, and
the API's ALREADY_EXISTS guards a record whose answer was lost from being added twice.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from bulkremove.client import Client
from bulkremove.errors import BodyTooLargeError, RefusedError
from bulkremove.exits import EXIT_INCOMPLETE, EXIT_OK, mark_after_sending_started
from bulkremove.journal import Journal
from bulkremove.journal.restores import RestoreOutcome
from bulkremove.kinds import Kind
from bulkremove.listing import Lister
from bulkremove.logs import get_logger
from bulkremove.restore.answers import Todo, batch_outcomes, single_outcome
from bulkremove.restore.budget import BodyBudget, body
from bulkremove.restore.plan import RestorePlan, plan_restore
from bulkremove.settings import Settings, require_api
from bulkremove.verify.job import checked_kind

SHOWN_FAILURES = 20
"""Failed records listed one by one at the end; the rest are counted (``export --restored``)."""


@dataclass(frozen=True)
class Restored:
    """How a restore ended: its plan, the journal's restore counts, and the exit code."""

    plan: RestorePlan
    counts: dict[str, int]
    failures: list[str]
    requests: int
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every record is restored or already present, else 4."""
        left = self.counts["failed"] + self.counts["pending"]
        return EXIT_OK if self.dry_run or left == 0 else EXIT_INCOMPLETE

    def lines(self) -> list[str]:
        """The outcome for people."""
        c = self.counts
        out = [f"failed: {line}" for line in self.failures[:SHOWN_FAILURES]]
        if len(self.failures) > SHOWN_FAILURES:
            more = len(self.failures) - SHOWN_FAILURES
            out.append(f"failed: ... and {more} more (bulkremove export JOURNAL --restored)")
        out.append(
            f"restore: {c['restored']} restored, {c['already_present']} already present, "
            f"{c['failed']} failed, {c['pending']} pending ({self.requests} requests)"
        )
        if c["pending"]:
            out.append(f"pending records are sent by: bulkremove restore {self.plan.journal}")
        return out

    def figures(self) -> dict[str, object]:
        return {**self.counts, "requests": self.requests, "plan": self.plan.as_dict()}


async def restore_journal(
    settings: Settings,
    path: str,
    *,
    states: tuple[str, ...] = ("removed",),
    keys: Callable[[Kind], set[int] | None] = lambda kind: None,
    dry_run: bool = False,
    max_restore: int | None = None,
    confirm: Callable[[RestorePlan], bool] = lambda plan: True,
) -> Restored:
    """Add back the records the journal at ``path`` removed, as its docstring says."""
    if not dry_run:
        require_api(settings)
    journal = await anyio.to_thread.run_sync(
        lambda: Journal.open(path, write=True, durable=settings.durable)
    )
    try:
        kind = checked_kind(journal.get_meta("settings") or {}, path)
        plan = plan_restore(journal, kind, settings.base_url or "", states=states, keys=keys(kind))
        if dry_run:
            return Restored(plan, journal.restore_counts(), [], 0, dry_run=True)
        if max_restore is not None and plan.count > max_restore:
            raise RefusedError(
                f"this restore would add {plan.count} records, over --max-restore "
                f"{max_restore}; nothing sent"
            )
        if plan.count and not confirm(plan):
            raise RefusedError("not confirmed: nothing sent")
        for campaign, todos in plan.todo.items():
            journal.add_restores(campaign, ((t.record_id, t.key) for t in todos))
        async with Client(settings) as client:
            adds = _Adds(client, Lister(client, settings), journal, kind)
            try:
                for campaign, todos in plan.todo.items():
                    await adds.campaign(campaign, todos, settings.concurrency)
            except BaseException as exc:
                mark_after_sending_started(exc)
                raise
            finally:
                journal.set_meta("restore", {**journal.restore_counts(), "at": time.time()})
        failures = [
            f"{campaign} {kind.labelled(key)}: {detail}"
            for campaign, key, _, _, detail in journal.restores("failed")
        ]
        done = Restored(plan, journal.restore_counts(), failures, adds.lister.requests)
    finally:
        journal.close()
    get_logger("restore").info("journal_restored", journal=path, **done.counts)
    return done


class _Adds:
    """The adds of one restore, their outcomes kept in the journal as they come."""

    def __init__(self, client: Client, lister: Lister, journal: Journal, kind: Kind) -> None:
        self.client = client
        self.lister = lister
        self.journal = journal
        self.kind = kind
        self.budget = BodyBudget()

    async def campaign(self, campaign: str, todos: list[Todo], workers: int) -> None:
        """Send every one of ``todos`` of ``campaign``, ``workers`` requests at a time."""
        if self.kind.several_records:
            work: deque[list[Todo]] = deque([todo] for todo in todos)
            target = f"outbounds/{campaign}/records"
        else:
            work = deque(self._packed(todos))
            target = f"batch/crm_outbounds/{campaign}/records"

        async def worker() -> None:
            while work:
                await self._send(campaign, target, work.popleft(), work)

        async with anyio.create_task_group() as group:
            for _ in range(max(1, min(workers, len(work)))):
                group.start_soon(worker)

    def _packed(self, todos: list[Todo]) -> list[list[Todo]]:
        return [
            [todo for todo, _ in batch] for batch in self.budget.pack([(t, t.entry) for t in todos])
        ]

    async def _send(
        self, campaign: str, target: str, batch: list[Todo], work: deque[list[Todo]]
    ) -> None:
        single = self.kind.several_records
        payload = batch[0].entry if single else body([todo.entry for todo in batch])
        tries = 0

        async def send() -> tuple[int, bytes]:
            nonlocal tries
            tries += 1
            self.journal.restore_sent(campaign, (todo.record_id for todo in batch))
            return await self.client.post(target, payload)

        def read(answer: tuple[int, bytes]) -> list[RestoreOutcome]:
            status, said = answer
            if single:
                return [single_outcome(status, said, batch[0], tries > 1)]
            return batch_outcomes(status, said, batch, tries > 1)

        try:
            outcomes = await self.lister.call(f"POST {target}", send, read)
        except BodyTooLargeError:
            self.budget.refused(len(payload), len(batch))
            work.extendleft(reversed(self._packed(batch)))
            return
        self.journal.record_restores(campaign, outcomes)
