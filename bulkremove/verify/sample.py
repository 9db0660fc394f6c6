"""The records a sampled verification checks: a seeded choice among the decided ones.

The decided records are numbered in the order the journal streams them (by campaign, then key),
and ``size`` of those numbers are drawn with :class:`random.Random` seeded by ``seed``: the same
journal and seed give the same sample, whichever machine draws it. The seed is printed, so a
sample can be checked again (``--seed``).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

SEED_LIMIT = 2**32
"""Seeds are drawn below this: short enough to read out and type again."""


def new_seed() -> int:
    """A fresh seed for a sample nobody asked to repeat."""
    return secrets.randbelow(SEED_LIMIT)


def positions(total: int, size: int, seed: int) -> list[int]:
    """``min(size, total)`` distinct positions in ``range(total)``, ascending, drawn by ``seed``."""
    if total < 0 or size < 0:
        raise ValueError(f"a sample needs total >= 0 and size >= 0, got {total} and {size}")
    if size >= total:
        return list(range(total))
    return sorted(random.Random(seed).sample(range(total), size))


def pick(items: Iterator[T], wanted: Sequence[int]) -> list[T]:
    """The items at the ascending positions ``wanted``, read in one pass that stops after the
    last of them; ``items`` is then closed, when it can be (a generator lets its cursor go)."""
    found: list[T] = []
    try:
        if wanted:
            for position, item in enumerate(items):
                if position == wanted[len(found)]:
                    found.append(item)
                    if len(found) == len(wanted):
                        break
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    return found
