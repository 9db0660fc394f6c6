"""Taking a planned snapshot: after consent, before the first DELETE, committed as it goes.

Each campaign is taken the way its plan chose (meta ``snapshot``, ``ways``):

- **listing**: the whole campaign, page by page (pages overlap as a selection's do, so records
  shifted by a removal elsewhere are not skipped); of each page, the records whose key is one
  of the run's are kept. A phone number keeps every record carrying it, as it removes them all.
- **record**: one GET per customer id (``crm_outbounds/{c}/records/{id}``), ``concurrency`` at
  a time, a chunk of keys at a time in key order.

Each page or chunk is committed with the point reached (meta ``snapshot``, ``progress``), so a
killed run's ``--resume`` goes on from there, and sends no DELETE before the snapshot is
complete. A key the snapshot did not find (404, or absent from the listing) is still sent, as
ever: it has no row in ``listed``, and the snapshot counts it as ``missing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from bulkremove.clients import ClientSource, client_for
from bulkremove.journal import Journal
from bulkremove.kinds import Kind, kind_of
from bulkremove.logs import get_logger
from bulkremove.prepared import PreparedRun
from bulkremove.settings import Settings

if TYPE_CHECKING:
    from bulkremove.listing.fetch import Lister
    from bulkremove.listing.records import ListedRecord

CHUNK = 200
"""Keys asked by single GETs between two commits."""
PROGRESS_PAGES = 50
"""A long snapshot logs how far it is every this many pages or chunks."""


async def take_snapshot(prepared: PreparedRun, client: ClientSource | None) -> None:
    """Take (or finish) the snapshot the journal plans, through ``client``'s pool or a client
    of its own; nothing when it plans none."""
    from bulkremove.listing.fetch import Lister  # the listing loads once it is needed

    meta = prepared.journal.get_meta("snapshot")
    if not isinstance(meta, dict) or meta.get("state") != "taking":
        return
    settings = prepared.settings
    try:
        async with client_for(settings, client) as getter:
            await _Taking(prepared.journal, settings, Lister(getter, settings), meta).run()
    except (KeyboardInterrupt, anyio.get_cancelled_exc_class()):
        # the command line ends an interrupted plan stage without a word: say how to go on
        resume = f"bulkremove run --resume {prepared.path}"
        get_logger("snapshot").warning("snapshot_interrupted", deletes_sent=0, resume=resume)
        raise


class _Taking:
    """One snapshot being taken into its journal."""

    def __init__(
        self, journal: Journal, settings: Settings, lister: Lister, meta: dict[str, Any]
    ) -> None:
        self.journal = journal
        self.lister = lister
        self.meta = meta
        self.kind: Kind = kind_of(settings)
        self.workers = settings.concurrency
        self.sent_before = int(meta.get("sent", 0))
        self.steps = 0
        self.log = get_logger("snapshot")

    async def run(self) -> None:
        progress: dict[str, dict[str, Any]] = self.meta.setdefault("progress", {})
        self.log.info("snapshot_started", cost=self.meta.get("cost"), ways=self.meta["ways"])
        for campaign, way in sorted(self.meta["ways"].items()):
            done = progress.setdefault(campaign, {})
            if done.get("done"):
                continue
            if way == "listing":
                await self._list(campaign, done)
            else:
                await self._get_each(campaign, done)
        counts = self.journal.counts()
        listed = {c: self.journal.listed_counts(c) for c in self.meta["ways"]}
        missing = sum(sum(counts.get(c, {}).values()) - keys for c, (_, keys) in listed.items())
        found = sum(rows for rows, _ in listed.values())
        self.meta.update(state="taken", found=found, missing=missing)
        self.journal.set_meta("snapshot", self._meta()["snapshot"])
        sent = self.meta["sent"]
        self.log.info("snapshot_taken", records=found, missing=missing, requests=sent)

    async def _list(self, campaign: str, progress: dict[str, Any]) -> None:
        from bulkremove.listing.passes import OVERLAP

        offset = int(progress.get("offset", 0))
        pages = self.lister.pages(self.kind, campaign, None, offset, overlap=OVERLAP)
        async for page in pages:
            held = self.journal.keys_held(campaign, {r.key for r in page.records})
            progress.update(offset=page.next_offset - OVERLAP, done=page.last)
            self._keep(campaign, [r for r in page.records if r.key in held], page.count)

    async def _get_each(self, campaign: str, progress: dict[str, Any]) -> None:
        after = int(progress.get("after", 0))
        while keys := self.journal.pending_page(campaign, after, CHUNK):
            found = await self._records(campaign, keys)
            after = keys[-1]
            progress.update(after=after)
            asked = set(keys)
            self._keep(campaign, [r for r in found if r.key in asked], None)
        progress.update(done=True)
        self.journal.set_meta("snapshot", self._meta()["snapshot"])

    async def _records(self, campaign: str, keys: list[int]) -> list[ListedRecord]:
        """The records of ``keys``, one GET each, ``workers`` at a time; 404s left out."""
        todo = iter(keys)
        found: list[ListedRecord] = []

        async def work() -> None:
            for key in todo:  # shared: each key is taken by one worker
                record = await self.lister.record(campaign, key)
                if record is not None:
                    found.append(record)

        async with anyio.create_task_group() as group:
            for _ in range(min(self.workers, len(keys))):
                group.start_soon(work)
        return found

    def _keep(self, campaign: str, records: list[ListedRecord], count: int | None) -> None:
        """Commit ``records`` of ``campaign`` with the point reached."""
        rows = [(r.record_id, self.kind.listed_value(r.key), r.fields) for r in records]
        meta = self._meta()
        self.journal.add_snapshot(campaign, rows, meta)
        self.steps += 1
        if self.steps % PROGRESS_PAGES == 0:
            sent = self.meta["sent"]
            self.log.info("snapshot_progress", campaign=campaign, count=count, requests=sent)

    def _meta(self) -> dict[str, Any]:
        self.meta["sent"] = self.sent_before + self.lister.requests
        return {"snapshot": self.meta}
