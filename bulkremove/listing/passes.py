"""Passes over a selection, until two agree: when a listing read by offset can be trusted.

Paging by offset while the dialer changes statuses shifts the offsets: a record can be skipped
or read twice. Two rules guard against it.

- **Pages overlap.** Each page starts :data:`OVERLAP` records before the end of the one before
  (offsets 0, 90, 180, ...). Records come in the order they were added, which a status change
  does not alter, so when a page shares at least one record with the page before, every record
  after the earlier page still matching is at or after that shared record: none was skipped. A
  page that shares none (a shift larger than the overlap) is a *gap*, and the pass is not good.
  Records read twice are counted once.
- **Passes agree.** A pass is *good* when it has no gap, every page gave the same ``count``, and
  the pass read exactly that many distinct records. The selection is fixed when two consecutive
  good passes read the same set of records (record id and key).

That set is the selection. Every record in it was listed as matching, so a record that never
matched is never in it; a record that matched throughout a pass is read by it, so one that
matched throughout the listing is in it. Up to ``max_listing_passes`` passes are read; then the
run is refused, saying why. Pure code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bulkremove.listing.pages import PAGE_SIZE

OVERLAP = 10
"""Records a page shares with the page before: a shift of up to this many loses nothing."""
STEP = PAGE_SIZE - OVERLAP
"""The offset from one page to the next."""

Entry = tuple[int, int]
"""A listed record as the agreement compares it: its record id and its journal key."""


@dataclass(slots=True)
class PassTally:
    """One pass being read: fed its pages in order."""

    number: int
    counts: list[int] = field(default_factory=list)
    """The ``count`` each page gave, in order."""
    entries: dict[int, int] = field(default_factory=dict)
    """The distinct records read, by record id, in the order first read."""
    gaps: int = 0
    """Pages that shared no record with the page before: records may have been skipped."""
    next_offset: int = 0
    done: bool = False
    _before: set[int] = field(default_factory=set)
    """The record ids of the page before."""

    def add(self, offset: int, count: int, entries: Iterable[Entry], last: bool) -> None:
        """Take the page read at ``offset``; ``last`` when no page follows it."""
        if self.done or offset != self.next_offset:
            raise ValueError(f"pass {self.number}: page at {offset}, not {self.next_offset}")
        page: set[int] = set()
        for record_id, key in entries:
            page.add(record_id)
            self.entries[record_id] = key
        if self.counts and page and page.isdisjoint(self._before):
            self.gaps += 1
        self.counts.append(count)
        self._before = page
        self.next_offset = offset + STEP
        self.done = last

    @property
    def read(self) -> int:
        """Distinct records read in this pass."""
        return len(self.entries)

    @property
    def good(self) -> bool:
        """No gap, one count on every page, and that many distinct records read."""
        return self.flaw() is None

    def flaw(self) -> str | None:
        """Why the pass is not good, in words; None when it is."""
        if not self.done:
            return "not finished"
        if len(set(self.counts)) > 1:
            return f"count changed while paging ({', '.join(map(str, _runs(self.counts)))})"
        if self.gaps:
            return f"{self.gaps} pages shared no record with the page before"
        if self.read != self.counts[0]:
            return f"read {self.read} records of {self.counts[0]} counted"
        return None

    def figures(self) -> dict[str, Any]:
        """What the journal and the report keep of the pass."""
        return {
            "pass": self.number,
            "pages": len(self.counts),
            "count": self.counts[-1] if self.counts else 0,
            "read": self.read,
            "good": self.good,
            "flaw": self.flaw(),
        }


@dataclass(slots=True)
class Agreement:
    """The passes read so far, and whether the last two good ones agree."""

    bound: int
    passes: list[PassTally] = field(default_factory=list)

    def current(self) -> PassTally:
        """The pass to feed the next page to: the unfinished one, or a new one."""
        if not self.passes or self.passes[-1].done:
            self.passes.append(PassTally(len(self.passes) + 1))
        return self.passes[-1]

    @property
    def settled(self) -> bool:
        """The last two passes are good and read the same records."""
        if len(self.passes) < 2:
            return False
        before, last = self.passes[-2:]
        return before.good and last.good and before.entries == last.entries

    @property
    def exhausted(self) -> bool:
        """``bound`` passes are read without agreement: no more may be read."""
        finished = [tally for tally in self.passes if tally.done]
        return not self.settled and len(finished) >= self.bound

    def selection(self) -> dict[int, int]:
        """The agreed records, by record id."""
        if not self.settled:
            raise ValueError("the passes do not agree")
        return dict(self.passes[-1].entries)

    def moved(self) -> int:
        """Records read by only one of the last two finished passes."""
        finished = [tally for tally in self.passes if tally.done]
        if len(finished) < 2:
            return 0
        before, last = finished[-2].entries.items(), finished[-1].entries.items()
        return len(before ^ last)

    def refusal(self) -> str:
        """Why the selection is refused once :attr:`exhausted`."""
        counts = ", ".join(
            "/".join(map(str, _runs(tally.counts))) for tally in self.passes if tally.done
        )
        # a count that changed shows in the counts; say the other flaws
        flaws = sorted(
            {
                flaw
                for tally in self.passes
                if (flaw := tally.flaw()) and not flaw.startswith("count changed")
            }
        )
        return (
            f"the selection did not hold still over {len(self.passes)} passes (counts per pass: "
            f"{counts}; {self.moved()} records differ between the last two passes"
            + (f"; {'; '.join(flaws)}" if flaws else "")
            + "): nothing was removed; list again when the dialer is quieter, narrow the "
            "filters, or raise max_listing_passes"
        )


def _runs(values: list[int]) -> list[int]:
    """``values`` without repeats in a row: 1200, 1200, 1198 gives 1200, 1198."""
    return [value for i, value in enumerate(values) if i == 0 or values[i - 1] != value]
