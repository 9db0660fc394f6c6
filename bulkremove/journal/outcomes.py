"""Outcomes: what answers gave each record, written by group commit.

The engine hands over the outcomes of many answers at once, as :class:`OutcomeGroup` values
(one per answer and outcome, its ids one list), and :meth:`Outcomes.record_groups` applies them
in one transaction: one statement per group, its ids passed as one JSON text that SQLite walks in
C with the GIL released, instead of Python binding a row per record. A group of fresh ids all
removed is kept as a removed run (see :mod:`bulkremove.journal.spans`); one of fresh ids with
another outcome is updated by range.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, cast

from bulkremove.errors import JournalError
from bulkremove.journal.connection import json_ids, json_object
from bulkremove.journal.records import (
    CODE,
    FAILED,
    IN_CALL,
    NOT_FOUND,
    PENDING,
    REMOVED,
    OutcomeGroup,
)
from bulkremove.journal.spans import WHERE_RUN, Spans

# ?1 state, ?2 at, ?3 in_call, ?4 answer_lost, ?5 detail, ?6 campaign_key, ?7 ids (JSON array)
_SET = """
    state = ?1,
    attempts = attempts + 1,
    first_attempt_at = coalesce(first_attempt_at, ?2),
    last_attempt_at = ?2,
    first_call_at = CASE WHEN ?3 THEN coalesce(first_call_at, ?2) ELSE first_call_at END,
    answer_lost = answer_lost OR ?4,
    detail = coalesce(?5, detail)"""
# Which records a group's statement updates: its ids, passed as one JSON array, or a run of them
# by its first and last id (?7, ?8): every pending record in between, walked in key order.
_WHERE_IDS = "campaign_key = ?6 AND customer_id IN (SELECT value FROM json_each(?7))"
# With record ids, the group's ``{customer id: record id}`` is kept as one row of ``removals``
# (?9 its id), which each record points to: no row per record is written for them.
_SET_REMOVAL = ",\n    removal = ?9"
# (run, with record ids) -> statement
_UPDATES = {
    (run, with_ids): f"UPDATE records SET {_SET}{_SET_REMOVAL if with_ids else ''}"
    f" WHERE {WHERE_RUN if run else _WHERE_IDS}"
    for run in (False, True)
    for with_ids in (False, True)
}
_ADD_REMOVAL = "INSERT INTO removals (campaign_key, record_ids) VALUES (?, ?)"
_ADD_REMOVED_RECORD = (
    "INSERT OR IGNORE INTO removed_records (campaign_key, key, record_id) VALUES (?, ?, ?)"
)
# A key that removed records before (a phone number whose other record was in a call) and now
# answers NOT_EXIST has nothing left, some of it removed by us: removed. ?1 campaign_key, ?2 ids.
_NOT_FOUND_BUT_REMOVED = f"""
    UPDATE records SET state = {REMOVED}
    WHERE campaign_key = ?1 AND state = {NOT_FOUND} AND customer_id IN (
        SELECT key FROM removed_records
        WHERE campaign_key = ?1 AND key IN (SELECT value FROM json_each(?2)))"""
# The meta rows of Outcomes.mark_sent: "sent_up_to:<campaign>", all keys in [_SENT, _SENT_END).
_SENT, _SENT_END = "sent_up_to:", "sent_up_to;"
_SENT_KEYS = (_SENT, _SENT_END)
_DELETE_SENT = "DELETE FROM meta WHERE key >= ? AND key < ?"
_FLAG_SENT = (
    "UPDATE records SET answer_lost = 1 WHERE campaign_key ="
    " (SELECT id FROM campaigns WHERE campaign = ?) AND customer_id <= ? AND state = ?"
    " AND NOT answer_lost"
)


class Outcomes(Spans):
    """The part of a journal that records outcomes, and puts records back for a resume."""

    def record_groups(self, groups: Sequence[OutcomeGroup]) -> dict[str, int]:
        """Apply ``groups`` in order, in one transaction: durable once this returns.

        A record may be in several groups (two tries of one batch); within a group ids are
        distinct. Returns how many records each state was given. Raises JournalError, changing
        nothing, if any group names a record not in the journal.
        """
        self._check_writable()
        if not groups:
            return {}
        keyed: list[tuple[Any, ...]] = []
        try:
            for g in groups:
                key, code = self._keys[g.campaign], CODE[g.state]
                parts = _with_record_ids_apart(g.ids, g.record_ids)
                run = g.run and len(parts) == 1 and len(g.ids) > 1
                for ids, record_ids in parts:
                    keyed.append(
                        (key, code, g.at, g.in_call, g.answer_lost, g.detail, ids, record_ids, run)
                    )
        except KeyError as exc:
            raise JournalError(f"outcome for unknown campaign or state {exc}") from exc
        expected = sum(len(g.ids) for g in groups)
        con = self._con
        with self._failing("recording outcomes"):
            con.execute("BEGIN IMMEDIATE")
            try:
                changed = 0  # records given an outcome
                for key, code, at, in_call, lost, detail, ids, record_ids, run in keyed:
                    plain = code == REMOVED and not in_call and not lost and detail is None
                    if run and record_ids is not None and plain and self._may_defer(key, ids):
                        if self._is_run(key, ids):
                            self._keep_run(key, ids, record_ids, at)
                            changed += len(ids)
                            continue
                    else:
                        self._fold_holding(key, ids)
                    removal = None
                    if record_ids is not None:
                        mapping = json_object(dict(zip(ids, record_ids, strict=True)))
                        removal = con.execute(_ADD_REMOVAL, (key, mapping)).lastrowid
                    if run:
                        by_range = self._update_run(
                            key, code, at, in_call, lost, detail, ids, removal
                        )
                        if by_range is not None:
                            changed += by_range
                            continue
                    params: tuple[Any, ...] = (code, at, in_call, lost, detail, key, json_ids(ids))
                    if removal is not None:
                        params += (None, removal)  # ?8 is unused here
                    changed += con.execute(_UPDATES[False, removal is not None], params).rowcount
                flipped = self._keep_removed_records(groups)
                if changed != expected:
                    raise JournalError(
                        f"{expected - changed} of {expected} outcomes name records"
                        " that are not in the journal"
                    )
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                self._load_unfolded()
                raise
        by_state: dict[str, int] = {}
        for group in groups:
            by_state[group.state] = by_state.get(group.state, 0) + len(group.ids)
        if flipped:
            by_state["not_found"] -= flipped
            by_state["removed"] = by_state.get("removed", 0) + flipped
        return by_state

    def _keep_removed_records(self, groups: Sequence[OutcomeGroup]) -> int:
        """Keep the record ids of keys matching several records; return how many keys that
        answered NOT_EXIST are removed for having removed records before."""
        con, keys, flipped = self._con, self._keys, 0
        if not any(g.records for g in groups) and not self._has_removed_records():
            return 0  # a journal of customer ids: no key has records of its own
        for g in groups:
            if g.records:
                key = keys[g.campaign]
                con.executemany(_ADD_REMOVED_RECORD, [(key, k, r) for k, r in g.records])
        for g in groups:
            if g.state == "not_found":
                params = (keys[g.campaign], json_ids(g.ids))
                flipped += con.execute(_NOT_FOUND_BUT_REMOVED, params).rowcount
        return flipped

    def _has_removed_records(self) -> bool:
        row = self._con.execute("SELECT 1 FROM removed_records LIMIT 1").fetchone()
        return row is not None

    def mark_sent(self, campaign: str, up_to: int) -> None:
        """Record, before they are sent, that the fresh ids of ``campaign`` up to ``up_to`` are
        handed out: one meta row per campaign, rewritten as the run goes on."""
        self.set_meta(_SENT + campaign, up_to)

    def clear_sent(self) -> None:
        """Forget the marks of :meth:`mark_sent`: the run ended with no request in flight."""
        self._check_writable()
        before = self._con.total_changes
        with self._failing("writing meta"):
            self._con.execute(_DELETE_SENT, _SENT_KEYS)
        self._meta_changes += self._con.total_changes - before

    def reset_for_resume(self) -> int:
        """Put ``in_call`` and ``failed`` records back to ``pending``; return how many.

        Attempts are kept. ``first_call_at`` is cleared on every record that will be tried again,
        so a resumed run gives each call a fresh deadline. First, if the last run did not end
        cleanly (its marks of :meth:`mark_sent` are there), the records it may have had in flight
        get the ``answer_lost`` flag: pending ones it had handed out, and ``in_call`` ones (a
        retry may have been under way).
        """
        self._check_writable()
        self.fold_runs()
        con = self._con
        with self._failing("resetting records for resume"):
            con.execute("BEGIN IMMEDIATE")
            try:
                marks = con.execute(
                    f"SELECT substr(key, {len(_SENT) + 1}), value FROM meta"
                    " WHERE key >= ? AND key < ?",
                    _SENT_KEYS,
                ).fetchall()
                for campaign, up_to in marks:
                    con.execute(_FLAG_SENT, (campaign, int(up_to), PENDING))
                if marks:
                    con.execute(
                        "UPDATE records SET answer_lost = 1 WHERE state = ? AND NOT answer_lost",
                        (IN_CALL,),
                    )
                    con.execute(_DELETE_SENT, _SENT_KEYS)
                moved = con.execute(
                    "UPDATE records SET state = ?, first_call_at = NULL WHERE state IN (?, ?)",
                    (PENDING, IN_CALL, FAILED),
                ).rowcount
                con.execute(
                    "UPDATE records SET first_call_at = NULL"
                    " WHERE state = ? AND first_call_at IS NOT NULL",
                    (PENDING,),
                )
                con.execute("COMMIT")
            except BaseException:
                con.rollback()
                raise
        return moved

    def _update_run(
        self,
        key: int,
        code: int,
        at: float,
        in_call: bool,
        lost: bool,
        detail: str | None,
        ids: Sequence[int],
        removal: int | None,
    ) -> int | None:
        """Update a run of ids by its ends, returning how many rows changed; None, having
        changed nothing, if it is not one. Walking a range of the key costs SQLite less than
        looking up each id.
        """
        if not self._is_run(key, ids):
            return None
        params: tuple[Any, ...] = (code, at, in_call, lost, detail, key, ids[0], ids[-1])
        if removal is not None:
            params += (removal,)
        return int(self._con.execute(_UPDATES[True, removal is not None], params).rowcount)


def _with_record_ids_apart(
    ids: Sequence[int], record_ids: Sequence[int | None] | None
) -> list[tuple[Sequence[int], Sequence[int] | None]]:
    """``ids`` with a record id, and those without (whose record id is kept as it was)."""
    if record_ids is None or record_ids.count(None) == len(record_ids):
        return [(ids, None)]
    if None not in record_ids:
        return [(ids, cast(Sequence[int], record_ids))]
    known = [r is not None for r in record_ids]
    with_ids = list(itertools.compress(ids, known))
    without = [i for i, k in zip(ids, known, strict=True) if not k]
    return [(with_ids, [r for r in record_ids if r is not None]), (without, None)]
