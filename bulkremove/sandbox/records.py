"""The records of one campaign: which customer ids are still present.

A range seed is held as a bitmap (one bit per id, 1.25 MB for ten million ids); a list of ids as a
set. Both answer ``discard`` in constant time, which is all the hot path needs; ``select`` and
``iter_from`` let the listing page through them without walking from the start.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Protocol, TypeVar

from bulkremove.sandbox.config import CampaignSeed, IdsSeed, RangeSeed

T = TypeVar("T")
_BLOCK = 4096  # bytes of bitmap counted at once by select()


class Records(Protocol):
    """Customer ids present in a campaign."""

    def __len__(self) -> int: ...

    def __contains__(self, cid: int) -> bool: ...

    def discard(self, cid: int) -> bool:
        """Remove ``cid``; True if it was present."""
        ...

    def discard_many(self, cids: list[int], present: T, absent: T) -> list[T]:
        """Remove each of ``cids`` in turn; for each, ``present`` if it was, else ``absent``."""
        ...

    def __iter__(self) -> Iterator[int]:
        """Present ids in ascending order."""
        ...

    def select(self, k: int) -> int:
        """The ``k``-th present id (0-based, ascending); IndexError past the end."""
        ...

    def iter_from(self, cid: int) -> Iterator[int]:
        """Present ids from ``cid`` on, ascending."""
        ...

    def highest(self) -> int:
        """The highest id ever held (0 if none): record ids above it are free."""
        ...


class RangeRecords:
    """Ids ``first..last``; bit ``i`` of the bitmap is set while ``first + i`` is present."""

    __slots__ = ("_bits", "_count", "first", "last")

    def __init__(self, first: int, last: int) -> None:
        self.first = first
        self.last = last
        size = last - first + 1
        self._bits = bytearray(b"\xff") * ((size + 7) // 8)
        if size % 8:
            self._bits[-1] = (1 << (size % 8)) - 1
        self._count = size

    def __len__(self) -> int:
        return self._count

    def __contains__(self, cid: int) -> bool:
        offset = cid - self.first
        if offset < 0 or cid > self.last:
            return False
        return bool(self._bits[offset >> 3] & (1 << (offset & 7)))

    def discard(self, cid: int) -> bool:
        offset = cid - self.first
        if offset < 0 or cid > self.last:
            return False
        index = offset >> 3
        byte = self._bits[index]
        mask = 1 << (offset & 7)
        if not byte & mask:
            return False
        self._bits[index] = byte ^ mask
        self._count -= 1
        return True

    def discard_many(self, cids: list[int], present: T, absent: T) -> list[T]:
        if not cids:
            return []
        if min(cids) < self.first or max(cids) > self.last:
            return [present if self.discard(cid) else absent for cid in cids]
        # The hot loop of every benchmark: discard() inlined, its range check done once above.
        bits = self._bits
        first = self.first
        answers: list[T] = []
        append = answers.append
        removed = 0
        for cid in cids:
            offset = cid - first
            index = offset >> 3
            byte = bits[index]
            mask = 1 << (offset & 7)
            if byte & mask:
                bits[index] = byte ^ mask
                append(present)
                removed += 1
            else:
                append(absent)
        self._count -= removed
        return answers

    def __iter__(self) -> Iterator[int]:
        return self.iter_from(self.first)

    def highest(self) -> int:
        return self.last

    def iter_from(self, cid: int) -> Iterator[int]:
        base = self.first
        start = max(cid, base) - base
        bits = self._bits
        for index in range(start >> 3, len(bits)):
            byte = bits[index]
            if index == start >> 3:
                byte &= 0xFF << (start & 7)
            if byte:
                for bit in range(8):
                    if byte & (1 << bit):
                        yield base + (index << 3) + bit

    def select(self, k: int) -> int:
        if not 0 <= k < self._count:
            raise IndexError(k)
        bits = self._bits
        # Whole blocks are counted in C; only the block holding the id is walked byte by byte.
        start = 0
        while True:
            block = bits[start : start + _BLOCK]
            ones = int.from_bytes(block, "little").bit_count()
            if k < ones:
                break
            k -= ones
            start += _BLOCK
        for index, byte in enumerate(block, start=start):
            ones = byte.bit_count()
            if k < ones:
                for bit in range(8):
                    if byte & (1 << bit):
                        if not k:
                            return self.first + (index << 3) + bit
                        k -= 1
            k -= ones
        raise AssertionError("the count and the bitmap disagree")


class SetRecords:
    """An arbitrary set of ids."""

    __slots__ = ("_highest", "_ids", "_sorted")

    def __init__(self, ids: frozenset[int] | set[int]) -> None:
        self._ids = set(ids)
        self._sorted: list[int] | None = None
        self._highest = max(self._ids, default=0)

    def highest(self) -> int:
        return self._highest

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, cid: int) -> bool:
        return cid in self._ids

    def discard(self, cid: int) -> bool:
        if cid in self._ids:
            self._ids.remove(cid)
            self._sorted = None
            return True
        return False

    def discard_many(self, cids: list[int], present: T, absent: T) -> list[T]:
        discard = self.discard
        return [present if discard(cid) else absent for cid in cids]

    def __iter__(self) -> Iterator[int]:
        return iter(self._ordered())

    def select(self, k: int) -> int:
        if k < 0:
            raise IndexError(k)
        return self._ordered()[k]

    def iter_from(self, cid: int) -> Iterator[int]:
        ordered = self._ordered()
        return iter(ordered[bisect.bisect_left(ordered, cid) :])

    def _ordered(self) -> list[int]:
        # Sorted once, until the next removal: a listing pages through it many times.
        if self._sorted is None:
            self._sorted = sorted(self._ids)
        return self._sorted


def records_from_seed(seed: CampaignSeed) -> RangeRecords | SetRecords:
    """The records a seed describes."""
    if isinstance(seed, RangeSeed):
        return RangeRecords(seed.first, seed.last)
    if isinstance(seed, IdsSeed):
        return SetRecords(seed.ids)
    return SetRecords(set())  # detailed records are held apart, in order of addition
