"""Text input: one id per line, blank lines and ``#`` comments skipped, one campaign for all."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO

from bulkremove.ingest.blocks import chunks, split_lines
from bulkremove.ingest.keys import IdBatch, KeyKind
from bulkremove.ingest.problems import IngestStats


def read_text(
    stream: BinaryIO, name: str, campaign: str, key: KeyKind, stats: IngestStats
) -> Iterator[IdBatch]:
    """``(campaign, ids)`` for each block of the stream that holds ids; counts go to ``stats``."""
    bare_block, clean_block, each_line = key.bare_block, key.clean_block, key.each_line
    lineno = 0
    for chunk in chunks(stream):
        ids: Sequence[int] | None = bare_block(chunk)
        if ids is not None:  # every line a plain id: no int made per line here
            lineno += len(ids)
            stats.lines += len(ids)
            stats.ids += len(ids)
            yield campaign, ids
            continue
        lines = split_lines(chunk)
        ids = clean_block(lines)
        if ids is None:
            ids = each_line(lines, name, lineno, stats)
        lineno += len(lines)
        stats.lines += len(lines)
        stats.ids += len(ids)
        if ids:
            yield campaign, ids
