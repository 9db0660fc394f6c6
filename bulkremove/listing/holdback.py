"""Which phone numbers a selection may remove: those whose every record is selected. Pure code.

A DELETE by phone number removes every record carrying that number, so a number is sent only
when each record of the campaign carrying it (as its ``phone_number``) is in the selection. The
others are held back, each with the reason: the first record carrying it that is not selected.
A selected record missing from the listing of the whole campaign (gone meanwhile) holds its
number back too: what else carries the number is not known.

Numbers are compared by key, whatever its type (the journal's int key in a run), and come out
as given: showing them to people is the kind's part (:attr:`bulkremove.kinds.Kind.show`).

Additional numbers are not shown by the listing, which is why a selection refuses
``search_in_additional_numbers``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
K_co = TypeVar("K_co", bound=Hashable, covariant=True)


class Carrier(Protocol[K_co]):
    """A listed record as the hold-back reads it (:class:`~bulkremove.listing.ListedRecord`)."""

    @property
    def record_id(self) -> int: ...

    @property
    def key(self) -> K_co: ...

    @property
    def system_status(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class HeldBack(Generic[K]):
    """A number of the selection that is not sent, and why."""

    number: K
    reason: str


@dataclass(frozen=True, slots=True)
class Numbers(Generic[K]):
    """What a phone campaign's selection sends: numbers to remove, and those held back."""

    remove: list[K]
    held_back: list[HeldBack[K]]


def numbers_to_remove(selected: Mapping[int, K], campaign: Iterable[Carrier[K]]) -> Numbers[K]:
    """Split the numbers of ``selected`` (record id to phone number) by ``campaign``'s records.

    Numbers come out in the order their first selected record was listed.
    """
    carriers: dict[K, list[Carrier[K]]] = {}
    for record in campaign:
        carriers.setdefault(record.key, []).append(record)
    chosen: dict[K, list[int]] = {}  # number to its selected record ids, in listed order
    for record_id, key in selected.items():
        chosen.setdefault(key, []).append(record_id)
    remove: list[K] = []
    held: list[HeldBack[K]] = []
    for number, record_ids in chosen.items():
        reason = _reason(record_ids, selected, carriers.get(number, []))
        if reason is None:
            remove.append(number)
        else:
            held.append(HeldBack(number, reason))
    return Numbers(remove, held)


def _reason(
    record_ids: list[int], selected: Mapping[int, K], carriers: list[Carrier[K]]
) -> str | None:
    listed = {record.record_id for record in carriers}
    for record_id in record_ids:
        if record_id not in listed:
            return f"record {record_id} is no longer in the campaign's listing"
    for record in carriers:
        if record.record_id not in selected:
            status = f" ({record.system_status})" if record.system_status else ""
            return f"record {record.record_id}{status} carries it too and is not selected"
    return None
