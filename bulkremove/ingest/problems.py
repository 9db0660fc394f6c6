"""Invalid input lines: how they are counted, kept, shown and turned into one error.

Invalid lines are counted, and the first ``MAX_SHOWN`` are kept with their source, line number,
text (escaped, cut to about ``SHOWN_CHARS``) and reason; :meth:`IngestStats.check` turns them
into an :class:`~bulkremove.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from bulkremove.errors import InputError
from bulkremove.ingest.blocks import MAX_LINE

MAX_SHOWN = 10
"""Invalid lines kept for the error message; the rest are only counted."""
SHOWN_CHARS = 80

NO_CAMPAIGN = "no campaign: give --campaign or a campaign_id column"
TOO_LONG = f"line longer than {MAX_LINE} bytes"


class InvalidLine(NamedTuple):
    """One rejected input line: where it is, what it says (escaped, shortened) and why."""

    source: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.text}: {self.reason}"


@dataclass
class IngestStats:
    """Counts of one ingest, up to date after each batch and exact once the reader is exhausted.

    ``ids`` counts valid ids including duplicates; the journal says how many were new.
    """

    lines: int = 0
    ids: int = 0
    invalid: int = 0
    first_invalid: list[InvalidLine] = field(default_factory=list)
    listing: Callable[[InvalidLine], None] | None = None
    """Given every invalid line, when set (``skip_invalid`` lists them in a file)."""

    @property
    def wants_reason(self) -> bool:
        """Whether the next invalid line's reason is needed, or a count is enough."""
        return self.listing is not None or len(self.first_invalid) < MAX_SHOWN

    def reject(self, source: str, line: int, text: str, reason: str) -> None:
        """Count one invalid line, and keep it while fewer than MAX_SHOWN are kept."""
        self.invalid += 1
        bad = InvalidLine(source, line, text, reason)
        if len(self.first_invalid) < MAX_SHOWN:
            self.first_invalid.append(bad)
        if self.listing is not None:
            self.listing(bad)

    def invalid_message(self) -> str:
        """The first invalid lines, one per line, then how many more there were."""
        shown = [str(bad) for bad in self.first_invalid]
        rest = self.invalid - len(self.first_invalid)
        if rest > 0:
            shown.append(f"... and {rest} more invalid lines ({self.invalid} in all)")
        return "\n".join(shown)

    def check(self) -> None:
        """Raise InputError naming the invalid lines, if there were any."""
        if self.invalid:
            raise InputError(self.invalid_message())


def show(raw: bytes) -> str:
    """``raw`` quoted and escaped so that control bytes show, cut to about SHOWN_CHARS."""
    try:
        return show_str(raw.decode("utf-8"))
    except UnicodeDecodeError:
        cut = raw[:SHOWN_CHARS]
        return repr(cut)[1:] + ("..." if len(raw) > SHOWN_CHARS else "")


def show_str(text: str) -> str:
    """``text`` quoted and escaped (bytes kept as surrogate escapes too), cut like :func:`show`."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # surrogate-escaped bytes
        return show(text.encode("utf-8", "surrogateescape"))
    return repr(text[:SHOWN_CHARS]) + ("..." if len(text) > SHOWN_CHARS else "")
