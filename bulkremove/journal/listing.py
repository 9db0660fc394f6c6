"""Listings: the pages of a selection's listing as they are read, then the selected records.

Each page is committed on its own as it comes, so a killed listing resumes at its last page;
once the passes agree, :meth:`Listings.keep_selection` keeps the selected records (one row each,
as listed) and drops the pages, in one transaction. A snapshot of a run from input files keeps
its records in the same table (:meth:`Listings.add_snapshot`), a page or a few GETs at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from bulkremove.journal.connection import Connection

SELECTION = "selection"
"""The listing of the selection's filters."""
CAMPAIGN = "campaign"
"""The listing of the whole campaign (what else carries a phone number)."""


class Listings(Connection):
    """The part of a journal that keeps listings."""

    def add_listed_page(
        self,
        listing: str,
        number: int,
        offset: int,
        count: int,
        records: list[Any],
        meta: Mapping[str, object],
    ) -> None:
        """Commit one page of pass ``number`` of ``listing`` (its count and its records) with
        ``meta``, in one transaction."""
        self._check_writable()
        con = self._con
        with self._failing("writing a listed page"):
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute(
                    "INSERT OR REPLACE INTO listing_pages"
                    ' (listing, pass, "offset", count, at, records) VALUES (?, ?, ?, ?, ?, ?)',
                    (listing, number, offset, count, time.time(), orjson.dumps(records).decode()),
                )
                self.set_metas(meta)
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                raise

    def listed_pages(self, listing: str) -> Iterator[tuple[int, int, int, list[Any]]]:
        """``(pass, offset, count, records)`` of every page kept of ``listing``, in order."""
        with self._failing("reading listed pages"):
            rows = self._con.execute(
                'SELECT pass, "offset", count, records FROM listing_pages WHERE listing = ?'
                ' ORDER BY pass, "offset"',
                (listing,),
            ).fetchall()
        for number, offset, count, records in rows:
            yield number, offset, count, orjson.loads(records)

    def forget_listing(self) -> None:
        """Drop every page kept: the next listing starts afresh."""
        self._check_writable()
        with self._failing("dropping listed pages"):
            self._con.execute("DELETE FROM listing_pages")

    def keep_selection(
        self,
        campaign: str,
        records: Iterable[tuple[int, Any, Mapping[str, Any]]],
        meta: Mapping[str, object],
    ) -> None:
        """Keep the selected ``(record id, key, fields)`` of ``campaign``, drop the pages, and
        write ``meta``, in one transaction."""
        self._keep_listed(campaign, records, meta, "keeping the selection", drop_pages=True)

    def add_snapshot(
        self,
        campaign: str,
        records: Iterable[tuple[int, Any, Mapping[str, Any]]],
        meta: Mapping[str, object],
    ) -> None:
        """Keep ``(record id, key, fields)`` of ``campaign`` as a snapshot took them, and write
        ``meta``, in one transaction."""
        self._keep_listed(campaign, records, meta, "keeping a snapshot", drop_pages=False)

    def _keep_listed(
        self,
        campaign: str,
        records: Iterable[tuple[int, Any, Mapping[str, Any]]],
        meta: Mapping[str, object],
        action: str,
        *,
        drop_pages: bool,
    ) -> None:
        self._check_writable()
        con = self._con
        with self._failing(action):
            con.execute("BEGIN IMMEDIATE")
            try:
                key = self._campaign_key(campaign)
                con.executemany(
                    "INSERT OR REPLACE INTO listed (campaign_key, record_id, key, fields)"
                    " VALUES (?, ?, ?, ?)",
                    (
                        (key, record_id, value, orjson.dumps(fields).decode())
                        for record_id, value, fields in records
                    ),
                )
                if drop_pages:
                    con.execute("DELETE FROM listing_pages")
                self.set_metas(meta)
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                self._load_campaigns()
                raise

    def keys_held(self, campaign: str, keys: Iterable[int]) -> set[int]:
        """Which of ``keys`` are records of ``campaign`` in this journal."""
        key = self._key_of(campaign)
        if key is None:
            return set()
        with self._failing("reading records"):
            rows = self._con.execute(
                "SELECT customer_id FROM records WHERE campaign_key = ?"
                " AND customer_id IN (SELECT value FROM json_each(?))",
                (key, orjson.dumps(list(keys)).decode()),
            ).fetchall()
        return {row[0] for row in rows}

    def listed_counts(self, campaign: str) -> tuple[int, int]:
        """How many records of ``campaign`` are kept as listed, and how many distinct keys they
        carry."""
        key = self._key_of(campaign)
        if key is None:
            return 0, 0
        with self._failing("counting listed records"):
            rows, keys = self._con.execute(
                "SELECT count(*), count(DISTINCT key) FROM listed WHERE campaign_key = ?", (key,)
            ).fetchone()
        return int(rows), int(keys)

    def listed(self, campaign: str) -> Iterator[tuple[int, Any, dict[str, Any]]]:
        """``(record id, key, fields)`` of the selected records of ``campaign``, by record id."""
        key = self._key_of(campaign)
        if key is None:
            return
        with self._failing("reading listed records"):
            cursor = self._con.execute(
                "SELECT record_id, key, fields FROM listed WHERE campaign_key = ?"
                " ORDER BY record_id",
                (key,),
            )
            for record_id, value, fields in cursor:
                yield record_id, value, orjson.loads(fields)
