"""Reading customer ids from input files, validating every line as it streams past.

A source is a path, or ``-`` for standard input. Files ending in ``.csv`` (any case) are CSV with
a header row naming a ``customer_id`` column and optionally a ``campaign_id`` column; anything else
is text, one id per line, where blank lines and ``#`` comments are skipped. Text ids always go to
the run's default campaign.

Input is read in blocks of ``BLOCK_SIZE`` bytes and split into lines, so memory stays bounded
whatever the input: a line longer than ``MAX_LINE`` bytes is cut there and reported invalid. A
block of a text file made only of digits and blanks is converted with ``map(int, ...)`` in one go;
only blocks holding something else (comments, blank lines, junk) are walked line by line.

The reader yields ``(campaign, ids)`` batches rather than single ids, so that the journal can take
a whole block in one statement. Invalid lines are counted, and the first ``MAX_SHOWN`` are kept
with their source, line number, text and reason; :meth:`IngestStats.check` turns them into an
:class:`~bulkremove.errors.InputError`.

Modules: ``blocks`` (the stream cut into lines; BLOCK_SIZE, MAX_LINE), ``keys`` (the kind of
key: customer ids), ``text`` and ``table`` (the two formats; CSV_BATCH), ``problems`` (invalid
lines; MAX_SHOWN) and ``reader`` (the reader over them all).
"""

from __future__ import annotations

from bulkremove.ingest.keys import CUSTOMER_ID, IdBatch, KeyKind, TextIds
from bulkremove.ingest.problems import NO_CAMPAIGN, TOO_LONG, IngestStats, InvalidLine
from bulkremove.ingest.reader import STDIN, STDIN_NAME, InputReader

# The sizes (BLOCK_SIZE, MAX_LINE, MAX_SHOWN, CSV_BATCH) stay in their modules, read there at
# each use: a copy here could be patched to no effect.
__all__ = [
    "CUSTOMER_ID",
    "NO_CAMPAIGN",
    "STDIN",
    "STDIN_NAME",
    "TOO_LONG",
    "IdBatch",
    "IngestStats",
    "InputReader",
    "InvalidLine",
    "KeyKind",
    "TextIds",
]
