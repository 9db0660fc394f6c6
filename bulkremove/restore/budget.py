"""How many records one batch add carries: bounded by count and by body bytes. Pure code.

The body limit is not documented. The budget starts at 1 MiB (nginx's default
``client_max_body_size``) and is found the way the request-target's is (see
:class:`bulkremove.engine.send.UrlBudget`): a 413 lowers it to half the refused body's size, for
the rest of the restore, and the refused batch is sent again in pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from bulkremove.engine.send import BUDGET_SHRINK
from bulkremove.errors import FatalApiError

T = TypeVar("T")

MOST_RECORDS = 500
"""Records per batch add at most."""
BODY_BYTES = 1 << 20
"""The body budget a restore starts with."""
_HEAD = b'{"records":['
_TAIL = b"]}"


def body(entries: Sequence[bytes]) -> bytes:
    """The batch add's body of JSON-encoded ``entries``."""
    return _HEAD + b",".join(entries) + _TAIL


def body_size(sizes: Sequence[int]) -> int:
    """The bytes of :func:`body` for entries of ``sizes`` bytes, without building it."""
    return len(_HEAD) + len(_TAIL) + sum(sizes) + max(0, len(sizes) - 1)


class BodyBudget:
    """The most bytes a batch add's body may have, and the most records it may carry."""

    __slots__ = ("limit", "most")

    def __init__(self, limit: int = BODY_BYTES, most: int = MOST_RECORDS) -> None:
        self.limit = limit
        self.most = most

    def pack(self, items: Sequence[tuple[T, bytes]]) -> list[list[tuple[T, bytes]]]:
        """``items`` (each with its encoded entry) in order, cut into batches that fit; an
        entry too large alone still goes alone (the server says whether it takes it)."""
        batches: list[list[tuple[T, bytes]]] = []
        batch: list[tuple[T, bytes]] = []
        size = len(_HEAD) + len(_TAIL) - 1
        for item in items:
            grown = size + len(item[1]) + 1
            if batch and (grown > self.limit or len(batch) >= self.most):
                batches.append(batch)
                batch, grown = [], len(_HEAD) + len(_TAIL) + len(item[1])
            batch.append(item)
            size = grown
        if batch:
            batches.append(batch)
        return batches

    def refused(self, length: int, records: int) -> int:
        """A body of ``length`` bytes carrying ``records`` was refused (413): the budget to
        send them again under. FatalApiError when it carried one record: it cannot be split."""
        if records <= 1:
            raise FatalApiError(
                f"the server refuses a body of {length} bytes (413) holding one record: raise "
                "its body limit, or restore that record by hand"
            )
        if length > self.limit:
            return self.limit  # packed before another batch's 413 lowered it
        self.limit = max(1, int(length * BUDGET_SHRINK))
        return self.limit
