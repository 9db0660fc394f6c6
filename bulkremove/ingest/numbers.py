"""Reading phone numbers: one per text line, or a ``phone_number`` CSV column.

Each valid number becomes its key (see :mod:`bulkremove.ids`). Blanks around a number are
dropped; blank lines and ``#`` comments are skipped, as for customer ids. Phone campaigns are
small next to CRM ones, so every line is simply read on its own.
"""

from __future__ import annotations

import bulkremove.ingest.blocks as blocks
from bulkremove.ids import MAX_ID_DIGITS, parse_phone_number, phone_number_problem
from bulkremove.ingest.blocks import BLANKS
from bulkremove.ingest.keys import KeyKind, reject_line
from bulkremove.ingest.problems import IngestStats


def no_block(_: object) -> None:
    """No fast path for whole blocks: each line is read by :func:`each_line`."""


def each_line(lines: list[bytes], name: str, before: int, stats: IngestStats) -> list[int]:
    """The keys of the numbers on ``lines``, numbered from ``before + 1``."""
    keys: list[int] = []
    append = keys.append
    max_line = blocks.MAX_LINE
    for lineno, raw in enumerate(lines, before + 1):
        text = raw.strip(BLANKS)
        if text.isdigit() and len(text) <= MAX_ID_DIGITS and len(raw) <= max_line:
            append(int(b"1" + text))
            continue
        reject_line(raw, text, name, lineno, stats, phone_number_problem, b"phone")
    return keys


PHONE_NUMBER = KeyKind(
    column="phone_number",
    bare_block=no_block,
    clean_block=no_block,
    each_line=each_line,
    from_cell=parse_phone_number,
    cell_problem=phone_number_problem,
)
