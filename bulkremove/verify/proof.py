"""A verification of one journal: which records to check, how to ask, and what was found.

``--sample N`` checks a seeded random sample of the decided records (see
:mod:`bulkremove.verify.sample`); for each campaign it asks one GET per sampled record, or
lists the campaign once when that takes fewer requests (a kind of key without a single-record
GET is always listed). ``--all`` lists every campaign once and checks every decided record
against it. ``pending`` records are never checked: no answer said anything of them.
"""

from __future__ import annotations

import itertools
import operator
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bulkremove.exits import EXIT_DISAGREE, EXIT_OK
from bulkremove.journal import Journal, JournalRecord
from bulkremove.kinds import Kind
from bulkremove.verify.rules import DECIDED, Finding, Tally
from bulkremove.verify.sample import new_seed, pick, positions
from bulkremove.verify.ways import Records, Way, by_listing, by_record, cheaper_way, seen


@dataclass(frozen=True, slots=True)
class Verification:
    """What a verification found. ``sample`` is the size asked for, None for ``--all``."""

    kind: Kind
    checked: int
    agree: int
    decided: int
    """Records the journal holds in a decided state: what could be checked."""
    pending: int
    """Records left pending: not checked."""
    sample: int | None
    seed: int | None
    ways: dict[str, Way]
    disagreements: list[Finding] = field(default_factory=list)
    at: float = 0.0

    @property
    def disagree(self) -> int:
        return self.checked - self.agree

    @property
    def exit_code(self) -> int:
        """0 when the API agrees with every record checked, else 7."""
        return EXIT_OK if self.disagree == 0 else EXIT_DISAGREE

    def figures(self) -> dict[str, Any]:
        """The meta ``verified`` and the report's section, without the disagreements."""
        return {
            "checked": self.checked,
            "agree": self.agree,
            "disagree": self.disagree,
            "decided": self.decided,
            "not_checked_pending": self.pending,
            "mode": "all" if self.sample is None else "sample",
            "sample": self.sample,
            "seed": self.seed,
            "ways": dict(self.ways),
            "at": self.at,
        }

    def lines(self) -> list[str]:
        """Every disagreement, then the figures, for people."""
        lines = [f"disagree: {f.line(self.kind.labelled(f.key))}" for f in self.disagreements]
        lines.append(
            f"verified: checked {self.checked}, agree {self.agree}, disagree {self.disagree}"
        )
        lines.extend(how_lines(self.figures()))
        return lines


def how_lines(figures: dict[str, Any]) -> list[str]:
    """How a verification chose and asked, from its figures (also a report's)."""
    decided = figures["decided"]
    if figures["mode"] == "all":
        lines = [f"checked: all {decided} decided records"]
    else:
        seed = figures["seed"]
        lines = [
            f"checked: a sample of {figures['checked']} of {decided} decided records, seed "
            f"{seed} (--seed {seed} checks the same records)"
        ]
    asked = {"record": "one GET per record", "listing": "listing the campaign"}
    if figures["ways"]:
        lines.append(
            "asked by: "
            + ", ".join(f"{c} {asked.get(w, w)}" for c, w in sorted(figures["ways"].items()))
        )
    if figures["not_checked_pending"]:
        lines.append(
            f"not checked: {figures['not_checked_pending']} pending records (never answered)"
        )
    return lines


async def verify(
    journal: Journal,
    source: Records,
    kind: Kind,
    *,
    sample: int | None,
    seed: int | None = None,
    workers: int = 1,
    clock: Callable[[], float] = time.time,
) -> Verification:
    """Check ``journal``'s decided records against ``source``: a sample of ``sample`` (seeded by
    ``seed``, drawn when None), or all of them when ``sample`` is None. Records nothing."""
    counts = journal.counts()
    decided = sum(c[state] for c in counts.values() for state in DECIDED)
    pending = sum(c["pending"] for c in counts.values())
    tally = Tally()
    ways: dict[str, Way] = {}
    if sample is None:
        seed = None
        for campaign in sorted(counts):
            if not any(counts[campaign][state] for state in DECIDED):
                continue
            listed = await by_listing(source, kind, campaign)
            ways[campaign] = "listing"
            for record in journal.records_in_states(DECIDED, campaign):
                tally.add(_finding(record, seen(listed.get(record.customer_id, []))))
    else:
        seed = new_seed() if seed is None else seed
        # read whole before asking: no cursor stays open while the API is asked
        chosen = pick(journal.records_in_states(DECIDED), positions(decided, sample, seed))
        for campaign, group in itertools.groupby(chosen, key=operator.attrgetter("campaign")):
            ways[campaign] = await _check(source, kind, campaign, list(group), workers, tally)
    return Verification(
        kind,
        tally.checked, tally.agree, decided, pending, sample, seed, ways, tally.disagreements,
        clock(),
    )  # fmt: skip


async def _check(
    source: Records,
    kind: Kind,
    campaign: str,
    records: list[JournalRecord],
    workers: int,
    tally: Tally,
) -> Way:
    """Check ``records`` of one campaign the cheaper way; returns the way taken."""
    way: Way = "listing"
    if kind.single_get:
        # also a campaign the API does not know is refused here, before any single GET
        way = cheaper_way(len(records), await source.count(campaign, kind))
    if way == "listing":
        listed = await by_listing(source, kind, campaign)
        for record in records:
            tally.add(_finding(record, seen(listed.get(record.customer_id, []))))
    else:
        keys = [record.customer_id for record in records]
        answers = await by_record(source, campaign, keys, workers)
        for record in records:
            tally.add(_finding(record, answers[record.customer_id]))
    return way


def _finding(record: JournalRecord, said: Any) -> Finding:
    return Finding(record.campaign, record.customer_id, record.state, said, record.answer_lost)


def record(journal: Journal, verification: Verification) -> None:
    """Write ``verification`` into ``journal``: its figures and every disagreement."""
    rows: Iterable[tuple[str, int | str, str, str]] = (
        (f.campaign, verification.kind.listed_value(f.key), f.state, f.seen.text())
        for f in verification.disagreements
    )
    journal.record_verification(verification.figures(), rows, verification.at)
