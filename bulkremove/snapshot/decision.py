"""The snapshot in the plan stage: the campaigns counted when the choice needs it, the snapshot
decided by the ``snapshot`` setting, and the decision kept in the journal (meta ``snapshot``).

Choosing between listing a campaign and one GET per record needs the campaign's size: one GET
of its first page asks it (``count``). No GET is sent when the choice is plain without it:
``off``; a CRM campaign with a single key; ``auto`` when the snapshot would cost more than a
quarter of the run's requests even if the campaign held only the run's keys (it holds at least
those it is asked to remove), which with the default batching is every run: a listing page
holds 100 records, a DELETE up to 500 ids. A real run refuses to go on when that GET fails,
as a listing would; a dry run tries once and shows the cost as unknown. A dry run keeps no
decision: the run that resumes its journal decides again. A resumed run keeps the decision of
the run that made the journal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bulkremove.clients import ClientSource, client_for
from bulkremove.errors import BulkRemoveError
from bulkremove.kinds import Kind, kind_of
from bulkremove.logs import get_logger
from bulkremove.prepared import PreparedRun
from bulkremove.snapshot.cost import decide, declined_early, needs_count


async def plan_snapshot(prepared: PreparedRun, client: ClientSource | None) -> PreparedRun:
    """``prepared`` with its plan's snapshot decided (and, for a real run, kept in the journal),
    asking through ``client``'s pool or a client of its own.

    A run that already has one (a selection; the journal of a run that began) keeps it; a run
    ``max_delete`` refuses gets none (and asks nothing). On a failure the prepared run is
    discarded (a journal it created is removed) and the error raised.
    """
    plan = prepared.plan
    if plan.snapshot or not plan.ids or plan.over_limit:  # decided, or nothing to decide for
        return prepared
    try:
        snapshot = await _decided(prepared, client)
        if not prepared.dry_run:
            prepared.journal.set_meta("snapshot", snapshot)
    except BaseException:
        prepared.discard()
        raise
    log = get_logger("snapshot")
    figures = {"cost": snapshot["cost"], "requests": snapshot["requests"]}
    if snapshot["state"] == "taking":
        log.info("snapshot_planned", ways=snapshot["ways"], **figures)
    elif snapshot["setting"] != "off":
        log.info("snapshot_not_taken", reason=snapshot["reason"], **figures)
    return dataclasses.replace(prepared, plan=dataclasses.replace(plan, snapshot=snapshot))


async def _decided(prepared: PreparedRun, client: ClientSource | None) -> dict[str, Any]:
    settings, plan = prepared.settings, prepared.plan
    kind = kind_of(settings)
    keys = dict(plan.campaigns)
    early = declined_early(settings.snapshot, keys, plan.requests, single_get=kind.single_get)
    if early is not None:
        return early.as_meta()
    wanted = [c for c, n in sorted(keys.items()) if needs_count(n, kind.single_get)]
    records, why = await _counted(prepared, client, kind, wanted) if wanted else ({}, "")
    snapshot = decide(settings.snapshot, keys, records, plan.requests, single_get=kind.single_get)
    meta = snapshot.as_meta()
    if why:
        meta["reason"] = why
    return meta


async def _counted(
    prepared: PreparedRun, client: ClientSource | None, kind: Kind, campaigns: list[str]
) -> tuple[Mapping[str, int | None], str]:
    """How many records each of ``campaigns`` holds now, one GET each, and why some are not
    counted (a dry run only: a real run raises)."""
    from bulkremove.listing.fetch import Lister  # the listing loads once it is needed

    settings = prepared.settings
    if prepared.dry_run:
        if not (settings.username and settings.password):
            return {}, "campaigns not counted: no credentials"
        settings = dataclasses.replace(settings, max_attempts=1)  # a dry run does not wait
    counts: dict[str, int | None] = {}
    try:
        async with client_for(settings, client) as getter:
            lister = Lister(getter, settings)
            for campaign in campaigns:
                counts[campaign] = (await lister.page(kind, campaign, None, 0)).count
    except BulkRemoveError as exc:
        if not prepared.dry_run:
            raise
        return counts, f"campaign not counted: {exc}"
    return counts, ""
