"""What the API must say of a record for the journal to be true: the agreement rules.

A record the journal calls ``removed`` or ``not_found`` must be absent (the single GET answers
404, or a listing of the campaign does not hold it); one it calls ``in_call`` or ``failed`` must
still be there. ``pending`` records were never answered, so nothing is expected of them and they
are not checked. A customer added again behind the journal's back is a disagreement for a record
the journal calls ``removed``: the journal's word is no longer true of the campaign.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bulkremove.journal import State

DECIDED: tuple[State, ...] = ("removed", "not_found", "in_call", "failed")
"""The states a record is checked in: every one an answer settled."""
_ABSENT: frozenset[str] = frozenset({"removed", "not_found"})


def expects_present(state: State) -> bool:
    """Whether a record in ``state`` must still be in its campaign; ValueError for pending."""
    if state not in DECIDED:
        raise ValueError(f"nothing is expected of a {state} record: it is not checked")
    return state not in _ABSENT


@dataclass(frozen=True, slots=True)
class Seen:
    """What the API said of one key: present, with what it showed of the record(s), or absent."""

    present: bool
    detail: str = ""
    """For people: the record id(s) and system status the API showed."""

    def text(self) -> str:
        if not self.present:
            return "the API has no such record"
        return f"the API has it ({self.detail})" if self.detail else "the API has it"


ABSENT = Seen(False)


@dataclass(frozen=True, slots=True)
class Finding:
    """One record checked: what the journal says of it and what the API said."""

    campaign: str
    key: int
    state: State
    seen: Seen
    answer_lost: bool = False

    @property
    def agrees(self) -> bool:
        return self.seen.present == expects_present(self.state)

    def line(self, shown: str) -> str:
        """The disagreement for people; ``shown`` is the key as people read it."""
        line = f"{self.campaign} {shown}: the journal says {self.state}, {self.seen.text()}"
        if self.answer_lost and not self.seen.present:
            line += " (an attempt's answer was lost: the run may have removed it)"
        return line


@dataclass(slots=True)
class Tally:
    """Records checked, and how many agree; the disagreements themselves, in order."""

    checked: int = 0
    agree: int = 0
    disagreements: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.checked += 1
        if finding.agrees:
            self.agree += 1
        else:
            self.disagreements.append(finding)

    @property
    def disagree(self) -> int:
        return self.checked - self.agree
