"""Intake: the ingested ids, added to the journal as pending records in key order.

Ids go into ``records`` sorted, several times faster than inserting shuffled ids into the primary
key one by one. Up to :data:`_HELD_IDS` ids are held as JSON text and inserted by one sorted
statement per campaign; past that, they are staged unsorted in a scratch database and merged
from there, so memory stays bounded. The whole intake runs in rollback-journal mode, not WAL:
as atomic, and the new pages are written once, not to the WAL and then again by a checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bulkremove.journal.connection import json_ids
from bulkremove.journal.schema import journal_mode
from bulkremove.journal.spans import Spans

_HELD_IDS = 1 << 20
"""Ids an ingest holds as JSON text before it stages them in SQLite instead.

Held, they are sorted by one statement: 0.71 against 0.87 s at 10^6 ids, for some 40 MiB more
at the peak (the text, and SQLite's parse of it).
"""
# A campaign's (?1) ids as one JSON array (?2), sorted by SQLite on the way in.
_ADD_SORTED = (
    "INSERT OR IGNORE INTO records (campaign_key, customer_id)"
    " SELECT ?1, value FROM json_each(?2) ORDER BY value"
)


class Intake(Spans):
    """The part of a journal that adds ingested ids as pending records."""

    def add_pending(self, batches: Iterable[tuple[str, Sequence[int]]]) -> int:
        """Add ``(campaign, customer ids)`` batches as pending records; return how many were new.

        Ids already in the journal (or repeated in the input) are ignored. The whole call is one
        transaction, and the records go into ``records`` in key order. If ``batches`` raises,
        nothing is added. While it runs the journal is in rollback-journal mode, not WAL:
        readers wait meanwhile.
        """
        self._check_writable()
        self.fold_runs()  # a new id may fall in a removed run's range
        con = self._con
        with self._failing("adding pending records"):
            rollback_mode = journal_mode(con, "delete") == "delete"
            # a scratch database for ids past what is held; ATTACH is refused inside a
            # transaction, so it comes first. An empty name: a private file, deleted at once by
            # DETACH (no page freeing).
            con.execute("ATTACH DATABASE '' AS staging")
            staged: set[int] = set()  # campaign keys with staged ids
            try:
                con.execute("PRAGMA staging.journal_mode = OFF")
                con.execute("PRAGMA staging.synchronous = OFF")
                con.execute(
                    "CREATE TABLE staging.ids (campaign_key INTEGER NOT NULL,"
                    " customer_id INTEGER NOT NULL)"
                )
                con.execute("BEGIN IMMEDIATE")
                try:
                    held: dict[int, list[str]] = {}
                    count = 0
                    for campaign, ids in batches:
                        if not ids:
                            continue
                        key = self._campaign_key(campaign)
                        if staged:
                            self._stage(staged, key, json_ids(ids))
                            continue
                        held.setdefault(key, []).append(json_ids(ids)[1:-1])
                        count += len(ids)
                        if count > _HELD_IDS:  # too many to hold: stage them all from here on
                            for held_key, texts in held.items():
                                for text in texts:
                                    self._stage(staged, held_key, f"[{text}]")
                            held = {}
                    added = self._merge_staged(staged) if staged else 0
                    while held:
                        key, texts = held.popitem()
                        ids_json = f"[{','.join(texts)}]"
                        del texts  # the pieces go before SQLite parses the whole
                        added += con.execute(_ADD_SORTED, (key, ids_json)).rowcount
                    con.execute("COMMIT")
                except BaseException:
                    con.rollback()
                    self._load_campaigns()  # forget keys handed out in the lost transaction
                    raise
            finally:
                con.execute("DETACH DATABASE staging")
                if rollback_mode:
                    journal_mode(con, "wal")
            if not rollback_mode:
                # a large merge leaves a WAL as big as the records: fold it in and cut it back
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return added

    def _stage(self, keys: set[int], key: int, ids_json: str) -> None:
        keys.add(key)
        self._con.execute(
            "INSERT INTO staging.ids SELECT ?, value FROM json_each(?)", (key, ids_json)
        )

    def _merge_staged(self, keys: set[int]) -> int:
        con = self._con
        if len(keys) == 1:
            # one sort key, not two: SQLite's sorter compares single integers fast
            return int(
                con.execute(
                    "INSERT OR IGNORE INTO records (campaign_key, customer_id)"
                    " SELECT ?, customer_id FROM staging.ids ORDER BY customer_id",
                    (next(iter(keys)),),
                ).rowcount
            )
        return int(
            con.execute(
                "INSERT OR IGNORE INTO records (campaign_key, customer_id)"
                " SELECT campaign_key, customer_id FROM staging.ids"
                " ORDER BY campaign_key, customer_id"
            ).rowcount
        )
