"""The plan stage of a run by selection (``--where``): list, until the passes agree, then plan.

The selection is listed into a new journal, page by page (each page committed as it comes), in
passes until two agree (:mod:`bulkremove.listing.passes`). The agreed records are kept in the
journal as listed, and their keys become the run's pending records, as an input file's ids do:
plan, ``max_delete``, confirmation, engine and resume then work unchanged. Nothing is removed
while listing: no DELETE is sent before the listing is over.

A phone campaign's selection also lists the whole campaign (in agreeing passes too) and sends a
number only when every record carrying it is selected (:mod:`bulkremove.listing.holdback`).

A killed listing is continued by ``--resume JOURNAL`` at its last page; the passes already read
count. A journal whose listing is over resumes like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulkremove.errors import ConfigError, UnsettledError, UsageError
from bulkremove.journal import Journal
from bulkremove.journal.listing import CAMPAIGN, SELECTION
from bulkremove.kinds import Kind, kind_of
from bulkremove.listing.fetch import Getter, Lister
from bulkremove.listing.holdback import numbers_to_remove
from bulkremove.listing.pages import ListingPage
from bulkremove.listing.passes import OVERLAP, Agreement
from bulkremove.listing.records import ListedRecord, read_record
from bulkremove.logs import get_logger
from bulkremove.plan import make_plan
from bulkremove.prepared import PreparedRun, default_journal_path, remove_journal
from bulkremove.settings import Settings, require_api
from bulkremove.settings.where import Filters

PROGRESS_PAGES = 50
"""A long listing logs how far it is every this many pages."""
AGREED = "agreed"
"""The listing's state once its passes agree and its records are in the journal."""


def listing_state(journal: str) -> str | None:
    """The state of ``journal``'s listing: None when it has none (a run of input files)."""
    with Journal.open(journal) as opened:
        listing = opened.get_meta("listing")
    return listing.get("state") if isinstance(listing, dict) else None


def check_selection(settings: Settings, inputs: object = ()) -> Filters:
    """Refuse a selection that cannot be listed as asked; its filters when it can."""
    where = settings.where
    if where is None:
        raise ValueError("not a run by selection")
    source = settings.sources.get("where", "where")
    if inputs:
        raise UsageError(f"where (from {source}) selects the records itself: give no --input")
    if not settings.campaign:
        raise ConfigError(f"where (from {source}) needs the campaign: give --campaign")
    if settings.search_in_additional_numbers:
        raise ConfigError(
            "search_in_additional_numbers = true cannot go with where: the listing does not "
            "show additional numbers, so what a number would remove is not known"
        )
    return where


async def prepare_selection(
    settings: Settings,
    getter: Getter,
    *,
    journal_path: str | None = None,
    resume: str | None = None,
    dry_run: bool = False,
) -> PreparedRun:
    """List the selection into a new journal (or go on with ``resume``'s listing) and plan it.

    A refusal (the passes never agreed) removes a journal this call created; any other failure
    (an API error, an interrupt) keeps it, for ``--resume``.
    """
    filters = check_selection(settings)
    require_api(settings)
    assert settings.campaign is not None
    if resume:
        path = Path(resume)
        journal = Journal.open(resume, write=True, durable=settings.durable)
    else:
        path = Path(journal_path) if journal_path else default_journal_path(settings)
        get_logger("run").info("journal_created", journal=str(path))
        journal = Journal.create(str(path), settings.public(), durable=settings.durable)
    try:
        selecting = _Selecting(settings, journal, Lister(getter, settings), filters)
        await selecting.run()
        plan = make_plan(journal, settings, resumed=False, name=str(path))
        journal.set_meta("state", "dry_run" if dry_run else "ready")
    except BaseException as exc:
        journal.close()
        if isinstance(exc, UsageError) and not resume:
            remove_journal(path)
        raise
    get_logger("run").info("run_planned", ids=plan.ids, requests=plan.requests, dry_run=dry_run)
    return PreparedRun(settings, journal, path, plan, created=not resume, dry_run=dry_run)


class _Selecting:
    """One selection being listed into its journal."""

    def __init__(
        self, settings: Settings, journal: Journal, lister: Lister, filters: Filters
    ) -> None:
        assert settings.campaign is not None
        self.campaign = settings.campaign
        self.bound = settings.max_listing_passes
        self.setting = settings.snapshot
        self.journal = journal
        self.lister = lister
        self.filters = filters
        self.kind: Kind = kind_of(settings)
        self.log = get_logger("listing").bind(campaign=self.campaign)
        self.requests_before = 0
        """GETs sent for this listing by the runs before (a resumed listing)."""
        self.meta: dict[str, Any] = {
            "state": "listing",
            "campaign": self.campaign,
            "target": self.kind.name,
            "where": filters.as_dict(),
        }

    async def run(self) -> None:
        before = self.journal.get_meta("listing") or {}
        for name in ("campaign", "target", "where"):
            if before and before.get(name) != self.meta[name]:
                raise ConfigError(
                    f"{self.journal.path} lists {name} {before.get(name)}, not "
                    f"{self.meta[name]}: a listing goes on with the selection it began with"
                )
        if before.get("state") == AGREED:
            raise ValueError(f"{self.journal.path}: its listing is over; resume it as any run")
        self.requests_before = int(before.get("requests", 0))
        if before.get("state") == "refused":
            self.journal.forget_listing()  # resumed after a refusal: list afresh
        selection = await self._agree(SELECTION, self.filters)
        chosen = selection.passes[-1]
        records = self._records(SELECTION, chosen.number)
        keys = [record.key for record in records]
        if self.kind.several_records:  # a key may carry records outside the selection
            campaign = await self._agree(CAMPAIGN, None)
            everything = self._records(CAMPAIGN, campaign.passes[-1].number)
            numbers = numbers_to_remove(selection.selection(), everything)
            keys = numbers.remove
            show = self.kind.show
            held = [{"number": show(h.number), "reason": h.reason} for h in numbers.held_back]
            self.meta["held_back"] = held
            for h in held:
                self.log.info("number_held_back", **h)
        added = self.journal.add_pending([(self.campaign, keys)]) if keys else 0
        self.meta.update(state=AGREED, count=len(records), keys=len(keys))
        rows = (
            (record.record_id, self.kind.listed_value(record.key), record.fields)
            for record in records
        )
        inputs = {"lines": 0, "ids": added, "duplicates": len(keys) - added, "invalid": 0}
        # the listed records are the snapshot (bulkremove.snapshot), whatever the setting
        snapshot = {"state": "taken", "ways": {self.campaign: "selection"}, "cost": 0}
        snapshot.update(setting=self.setting, found=len(records), missing=0)
        meta = {**self._meta(), "input": inputs, "snapshot": snapshot}
        self.journal.keep_selection(self.campaign, rows, meta)
        self.log.info("selection_agreed", records=len(records), keys=len(keys))

    async def _agree(self, listing: str, filters: Filters | None) -> Agreement:
        """Pass over ``listing`` (resuming what the journal holds) until two passes agree."""
        agreement = self._replayed(listing)
        figures = "passes" if listing == SELECTION else "campaign_passes"
        while not agreement.settled:
            if agreement.exhausted:
                self.meta.update(state="refused", **{figures: _figures(agreement)})
                self.journal.set_metas(self._meta())
                whole = "" if listing == SELECTION else "listing the whole campaign: "
                raise UnsettledError(whole + agreement.refusal())
            tally = agreement.current()
            pages = self.lister.pages(
                self.kind, self.campaign, filters, tally.next_offset, overlap=OVERLAP
            )
            async for page in pages:
                fields = [record.fields for record in page.records]
                self.journal.add_listed_page(
                    listing, tally.number, page.offset, page.count, fields, self._meta()
                )
                entries = [(record.record_id, record.key) for record in page.records]
                tally.add(page.offset, page.count, entries, page.last)
                if len(tally.counts) % PROGRESS_PAGES == 0:
                    read = {"pass": tally.number, "read": tally.read, "count": page.count}
                    self.log.info(f"{listing}_listing", **read)
            self.meta[figures] = _figures(agreement)
            self.journal.set_metas(self._meta())
            self.log.info(f"{listing}_pass", **tally.figures())
        return agreement

    def _replayed(self, listing: str) -> Agreement:
        """The passes the journal holds of ``listing``, read again from its pages."""
        agreement = Agreement(self.bound)
        for number, offset, count, fields in self.journal.listed_pages(listing):
            tally = agreement.current()
            if tally.number != number:  # out of order (a journal edited by hand): left out
                continue
            page = ListingPage(offset, count, [read_record(entry, self.kind) for entry in fields])
            tally.add(offset, count, [(r.record_id, r.key) for r in page.records], page.last)
        return agreement

    def _records(self, listing: str, number: int) -> list[ListedRecord]:
        """The distinct records read by pass ``number`` of ``listing``, in listed order, each as
        last read (pages overlap)."""
        records: dict[int, ListedRecord] = {}
        for pass_number, _, _, fields in self.journal.listed_pages(listing):
            if pass_number == number:
                for entry in fields:
                    record = read_record(entry, self.kind)
                    records[record.record_id] = record
        return list(records.values())

    def _meta(self) -> dict[str, Any]:
        """The journal's meta ``listing`` as it stands, with the GETs sent so far."""
        self.meta["requests"] = self.requests_before + self.lister.requests
        return {"listing": self.meta}


def _figures(agreement: Agreement) -> list[dict[str, Any]]:
    return [tally.figures() for tally in agreement.passes]
