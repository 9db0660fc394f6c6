"""Reading phone numbers: one per text line, or a ``phone_number`` CSV column.

Each valid number becomes its key (see :mod:`bulkremove.ids`). Blanks around a number are
dropped; blank lines and ``#`` comments are skipped, as for customer ids. Phone campaigns are
small next to CRM ones, so every line is simply read on its own.
"""

from __future__ import annotations

import bulkremove.ingest.blocks as blocks
from bulkremove.ids import MAX_ID_DIGITS, parse_phone_number, phone_number_problem
from bulkremove.ingest.blocks import BLANKS
from bulkremove.ingest.keys import LOOKS_LIKE_HEADER, KeyKind, bytes_problem
from bulkremove.ingest.problems import TOO_LONG, IngestStats, show


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
        if len(raw) > max_line:
            head = raw[: max_line + 1].strip(BLANKS)
            if not head.startswith(b"#"):
                stats.reject(name, lineno, show(head), TOO_LONG)
        elif not text or text.startswith(b"#"):
            pass
        elif stats.wants_reason:
            header = lineno == 1 and text.lower().startswith((b"phone", b'"phone'))
            problem = LOOKS_LIKE_HEADER if header else bytes_problem(text, phone_number_problem)
            stats.reject(name, lineno, show(text), problem)
        else:
            stats.invalid += 1
    return keys


PHONE_NUMBER = KeyKind(
    column="phone_number",
    bare_block=no_block,
    clean_block=no_block,
    each_line=each_line,
    from_cell=parse_phone_number,
    cell_problem=phone_number_problem,
)
