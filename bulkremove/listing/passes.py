"""Passes over a selection, until two agree: when a listing read by offset can be trusted.

Paging by offset while the dialer changes statuses shifts the offsets: a record can be skipped
or read twice. So the whole selection is read in passes, and nothing is removed until:

- a pass is **good**: every page gave the same ``count``, the pass read exactly that many
  records, and no record came twice;
- two **consecutive good passes** read the same set of records (record id and key).

That set is the selection. Every record in it was listed as matching (so a record that never
matched is never in it), and a record that matched throughout both passes was read by both
unless both misread it alike, which needs the same shift at the same page in each. Up to
``max_listing_passes`` passes are read; then the run is refused, saying why. Pure code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bulkremove.listing.pages import PAGE_SIZE
from bulkremove.listing.records import Key

Entry = tuple[int, Key]
"""A listed record as the agreement compares it: its record id and its key."""


@dataclass(slots=True)
class PassTally:
    """One pass being read: fed its pages in order."""

    number: int
    counts: list[int] = field(default_factory=list)
    """The ``count`` each page gave, in order."""
    entries: dict[int, Key] = field(default_factory=dict)
    read: int = 0
    """Records read in this pass, repeats included."""
    repeats: int = 0
    """Records read again in this pass (by record id)."""
    next_offset: int = 0
    done: bool = False

    def add(self, offset: int, count: int, entries: Iterable[Entry], last: bool) -> None:
        """Take the page read at ``offset``; ``last`` when no page follows it."""
        if self.done or offset != self.next_offset:
            raise ValueError(f"pass {self.number}: page at {offset}, not {self.next_offset}")
        self.counts.append(count)
        before = len(self.entries)
        read = 0
        for record_id, key in entries:
            read += 1
            self.entries[record_id] = key
        self.repeats += read - (len(self.entries) - before)
        self.read += read
        self.next_offset = offset + PAGE_SIZE
        self.done = last

    @property
    def good(self) -> bool:
        """Every page gave one count, that many records were read, and none twice."""
        return (
            self.done
            and len(set(self.counts)) == 1
            and self.read == self.counts[0]
            and not self.repeats
        )

    def flaw(self) -> str | None:
        """Why the pass is not good, in words; None when it is."""
        if not self.done:
            return "not finished"
        if len(set(self.counts)) > 1:
            return f"count changed while paging ({', '.join(map(str, _runs(self.counts)))})"
        if self.repeats:
            return f"{self.repeats} records came twice"
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

    def selection(self) -> dict[int, Key]:
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
