"""Campaigns, their records, and the calls that keep records from being removed.

Calls come from two places. A seeded share of records is in a call from server start; whether a
record is, and for how long, is a hash of the seed, the campaign and the id, so it costs no memory
for large campaigns and is the same in every run with the same seed. The admin endpoint puts
chosen records in a call from now; those are kept in a dict per campaign. Records seeded from a
JSON file carry their own call. Calls are keyed by customer id in CRM campaigns and by record id
in phone campaigns.
"""

from __future__ import annotations

import enum
import hashlib
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from bulkremove.sandbox.config import RecordsSeed, SandboxConfig
from bulkremove.sandbox.detailed import (
    CRM,
    DEFAULT_STATUS_ID,
    DEFAULT_SYSTEM_STATUS,
    Record,
    Rows,
    base_record,
)
from bulkremove.sandbox.records import RangeRecords, SetRecords, records_from_seed
from bulkremove.sandbox.responses import RECORD_ID_OFFSET

if TYPE_CHECKING:
    from bulkremove.sandbox.churn import Churn

_M64 = (1 << 64) - 1
_UNIT = 2.0**-53


class Outcome(enum.Enum):
    """What a delete did to one record."""

    REMOVED = "REMOVED"
    NOT_EXIST = "NOT_EXIST"
    CALL_IN_PROGRESS = "CALL_IN_PROGRESS"


def _mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _salt(seed: int, campaign: str) -> int:
    digest = hashlib.blake2b(f"{seed}/{campaign}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class SeededCalls:
    """The calls a seed puts records in from ``start``."""

    __slots__ = ("_max", "_min", "_salt", "_share", "_start", "until")

    def __init__(self, salt: int, share: float, min_s: float, max_s: float, start: float) -> None:
        self._salt = salt
        self._share = share
        self._min = min_s
        self._max = max_s
        self._start = start
        self.until = start + max_s  # when the last of these calls ends

    def end_of(self, cid: int) -> float | None:
        """When the call of ``cid`` ends (clock time; inf if never), or None if not in one."""
        h = _mix(cid ^ self._salt)
        if (h >> 11) * _UNIT >= self._share:
            return None
        if math.isinf(self._max):
            return math.inf
        return self._start + self._min + (_mix(h) >> 11) * _UNIT * (self._max - self._min)


class Campaign:
    """One campaign's records and the calls they are in.

    ``records`` holds the customer ids of a range or ids seed (their records made on demand, with
    the system statuses changed since in ``overrides``); ``rows`` the detailed records, seeded
    from a file or put back, after them in order of addition.
    """

    __slots__ = (
        "_calls",
        "_calls_until",
        "_seeded",
        "churn",
        "name",
        "next_record_id",
        "overrides",
        "records",
        "rows",
        "statuses",
        "target",
    )

    def __init__(
        self,
        name: str,
        records: RangeRecords | SetRecords,
        seeded: SeededCalls | None,
        *,
        target: str = CRM,
        rows: Iterable[Record] = (),
    ) -> None:
        self.name = name
        self.target = target
        self.records = records
        self.rows = Rows(rows)
        # status id -> system status, as the seed gave them: what an added record's status means
        self.statuses: dict[str, str] = {}
        for record in self.rows.by_id.values():
            self.statuses.setdefault(record.status_id, record.system_status)
        self.statuses.setdefault(DEFAULT_STATUS_ID, DEFAULT_SYSTEM_STATUS)
        self.overrides: dict[int, str] = {}
        self.churn: Churn | None = None  # statuses changing under the listing
        seeded_top = records.highest() + RECORD_ID_OFFSET if records.highest() else 0
        self.next_record_id = max([seeded_top, *self.rows.by_id]) + 1
        self._seeded = seeded
        self._calls: dict[int, float] = {}
        self._calls_until = -math.inf

    def __len__(self) -> int:
        return len(self.records) + len(self.rows)

    def record_in_call(self, record: Record, now: float) -> bool:
        """True while ``record`` is in a call: its own, or one given by seed or admin."""
        end = record.call_end
        if end is not None and now < end:
            return True
        key = record.key if self.target == CRM else record.record_id
        return isinstance(key, int) and self.in_call(key, now)

    def customer(self, cid: int) -> Record | None:
        """The record of customer ``cid``, or None if it is not in the campaign."""
        found = self.rows.with_key(cid)
        if found:
            return found[0]
        if cid in self.records:
            return base_record(cid, self.overrides.get(cid, DEFAULT_SYSTEM_STATUS))
        return None

    def record(self, rid: int) -> Record | None:
        """Record ``rid``, or None if it is not in the campaign."""
        found = self.rows.by_id.get(rid)
        if found is None and rid - RECORD_ID_OFFSET in self.records:
            cid = rid - RECORD_ID_OFFSET
            return base_record(cid, self.overrides.get(cid, DEFAULT_SYSTEM_STATUS))
        return found

    def set_status(self, rid: int, system_status: str) -> None:
        """Give record ``rid`` (which must be present) a new system status."""
        found = self.rows.by_id.get(rid)
        if found is not None:
            found.system_status = system_status
        elif system_status == DEFAULT_SYSTEM_STATUS:
            self.overrides.pop(rid - RECORD_ID_OFFSET, None)  # like the records never changed
        else:
            self.overrides[rid - RECORD_ID_OFFSET] = system_status

    def add(self, records: Iterable[Record]) -> list[int]:
        """Add ``records`` after all others (checked beforehand); their record ids."""
        rids = []
        for record in records:
            self.rows.add(record)
            self.next_record_id = max(self.next_record_id, record.record_id + 1)
            rids.append(record.record_id)
        return rids

    def remove_customers(self, cids: list[int], now: float) -> list[tuple[Outcome, int]]:
        """``remove`` for each of ``cids``, with the record id each had."""
        answers = []
        rows = self.rows
        for cid in cids:
            found = rows.with_key(cid)
            if not found:
                answers.append((self.remove(cid, now), cid + RECORD_ID_OFFSET))
            elif self.record_in_call(found[0], now):
                answers.append((Outcome.CALL_IN_PROGRESS, found[0].record_id))
            else:
                rows.remove(found[0].record_id)
                answers.append((Outcome.REMOVED, found[0].record_id))
        return answers

    def in_call(self, cid: int, now: float) -> bool:
        """True while ``cid`` is in a call (whether or not the record exists)."""
        end = self._calls.get(cid)
        if end is not None and now < end:
            return True
        if self._seeded is not None:
            seeded_end = self._seeded.end_of(cid)
            return seeded_end is not None and now < seeded_end
        return False

    def remove(self, cid: int, now: float) -> Outcome:
        """Remove ``cid`` unless it is absent or in a call."""
        records = self.records
        if self._seeded is None and not self._calls:
            return Outcome.REMOVED if records.discard(cid) else Outcome.NOT_EXIST
        if cid not in records:
            return Outcome.NOT_EXIST
        if self.in_call(cid, now):
            return Outcome.CALL_IN_PROGRESS
        records.discard(cid)
        return Outcome.REMOVED

    def remove_many(self, cids: list[int], now: float) -> list[Outcome]:
        """``remove`` for each of ``cids`` in turn."""
        # Once every call has ended, forget them: removal is then the bare fast path.
        if self._calls and now >= self._calls_until:
            self._calls.clear()
        if self._seeded is not None and now >= self._seeded.until:
            self._seeded = None
        if self._seeded is None and not self._calls:
            return self.records.discard_many(cids, Outcome.REMOVED, Outcome.NOT_EXIST)
        return [self.remove(cid, now) for cid in cids]

    def put_in_call(self, ids: Iterable[int], end: float) -> int:
        """Keep ``ids`` (customer ids; record ids in a phone campaign) in a call until ``end``
        (clock time); returns how many are present."""
        present = 0
        self._calls_until = max(self._calls_until, end)
        for cid in ids:
            self._calls[cid] = end
            if self.target == CRM:
                present += self.customer(cid) is not None
            else:
                present += cid in self.rows.by_id
        return present


class SandboxState:
    """All campaigns of one server, built from its config."""

    __slots__ = ("campaigns", "clock", "seed", "start")

    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.start = clock()
        self.seed = (
            config.seed if config.seed is not None else random.SystemRandom().getrandbits(64)
        )
        self.campaigns: dict[str, Campaign] = {}
        for campaign_seed in config.campaigns:
            seeded = None
            if config.call_share > 0:
                seeded = SeededCalls(
                    _salt(self.seed, campaign_seed.campaign),
                    config.call_share,
                    config.call_min_s,
                    config.call_max_s,
                    self.start,
                )
            name = campaign_seed.campaign
            records = records_from_seed(campaign_seed)
            if isinstance(campaign_seed, RecordsSeed):
                # Copies: the seed is shared by every server made from this config.
                rows = [_started(record, self.start) for record in campaign_seed.records]
                self.campaigns[name] = Campaign(
                    name, records, seeded, target=campaign_seed.target, rows=rows
                )
            else:
                self.campaigns[name] = Campaign(name, records, seeded)

    def remaining(self) -> dict[str, int]:
        """Records left per campaign."""
        return {name: len(campaign) for name, campaign in self.campaigns.items()}


def _started(record: Record, start: float) -> Record:
    """A copy of a seeded record, its call counted from ``start``."""
    end = record.call_end
    return replace(
        record,
        call_end=None if end is None else start + end,
        record_fields=dict(record.record_fields),
    )
