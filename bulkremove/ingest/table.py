"""CSV input: a header row naming the key's column and optionally a ``campaign_id`` column.

The delimiter is the first of ``,``, ``;`` and tab found in the header (else a comma). Rows
without a campaign go to the run's default campaign. Ids are gathered per campaign and handed
on every ``CSV_BATCH`` valid rows, so memory stays bounded.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import BinaryIO

import bulkremove.ingest.blocks as blocks
from bulkremove.ids import is_campaign_id
from bulkremove.ingest.blocks import BLANKS, line_blocks
from bulkremove.ingest.keys import IdBatch, KeyKind
from bulkremove.ingest.problems import NO_CAMPAIGN, TOO_LONG, IngestStats, show, show_str

CSV_BATCH = 1 << 16

_CSV_DELIMITERS = ",;\t"
_COLUMNS_SHOWN = 12


class CsvSource:
    """Reads one CSV source into ``(campaign, ids)`` batches, rejecting bad rows into ``stats``."""

    def __init__(
        self, name: str, default_campaign: str | None, key: KeyKind, stats: IngestStats
    ) -> None:
        self.name = name
        self.default_campaign = default_campaign
        self.stats = stats
        self._column = key.column
        self._from_cell = key.from_cell
        self._cell_problem = key.cell_problem

    def read(self, stream: BinaryIO) -> Iterator[IdBatch]:
        """The batches of ``stream``; the header is checked first, then every row."""
        name, stats, column = self.name, self.stats, self._column
        counted = stats.lines
        lines = _CsvLines(line_blocks(stream), stats, name)
        header_line = next(lines, None)
        if header_line is None:
            stats.reject(name, 1, "''", f"empty CSV file: no header row with {column}")
            return
        stats.lines = counted + 1
        delimiter = next((d for d in _CSV_DELIMITERS if d in header_line), ",")
        reader = csv.reader(_chain_one(header_line, lines), delimiter=delimiter)
        try:
            header = [cell.strip().lower() for cell in next(reader)]
        except csv.Error as exc:  # e.g. a quote opened in the header and never closed
            stats.lines = counted + lines.lineno
            stats.reject(name, 1, show_str(header_line), f"CSV: {exc}")
            return
        # A quote left open in the header takes the following lines into it.
        stats.lines = counted + lines.lineno
        if column not in header:
            # escaped like the line is, and cut: a header may hold any bytes, at any length
            names = [repr(cell[:40])[1:-1] for cell in header[:_COLUMNS_SHOWN]]
            found = ", ".join(names) + (", ..." if header[_COLUMNS_SHOWN:] else "")
            reason = f"no {column} column in the header (columns found: {found})"
            stats.reject(name, 1, show_str(header_line.rstrip("\r\n")), reason)
            return
        id_col = header.index(column)
        campaign_col = header.index("campaign_id") if "campaign_id" in header else None
        if campaign_col is None and self.default_campaign is None:
            stats.reject(name, 1, show_str(header_line), NO_CAMPAIGN)
            return
        batches: dict[str, list[int]] = {}
        held = 0
        last_line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                stats.reject(name, last_line + 1, show_str(lines.last), f"CSV: {exc}")
                last_line = reader.line_num
                continue
            lineno, last_line = last_line + 1, reader.line_num
            campaign, value = self._row(row, id_col, campaign_col, lineno)
            if value is None:
                continue
            batches.setdefault(campaign, []).append(value)
            held += 1
            if held >= CSV_BATCH:
                stats.ids += held
                stats.lines = counted + lines.lineno
                yield from batches.items()
                batches, held = {}, 0
        stats.ids += held
        stats.lines = counted + lines.lineno
        yield from batches.items()

    def _row(
        self, row: list[str], id_col: int, campaign_col: int | None, lineno: int
    ) -> tuple[str, int | None]:
        name, stats = self.name, self.stats
        if not any(cell.strip() for cell in row):
            return "", None  # a blank line, or a line cut at MAX_LINE and already reported
        joined = ",".join(row)
        if "\0" in joined:
            stats.reject(name, lineno, show_str(joined), "line contains NUL")
            return "", None
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            stats.reject(name, lineno, show_str(joined), "line is not valid UTF-8")
            return "", None
        text = row[id_col].strip() if id_col < len(row) else ""
        value = self._from_cell(text)
        if value is None:
            stats.reject(name, lineno, show_str(text), self._cell_problem(text))
            return "", None
        campaign = ""
        if campaign_col is not None and campaign_col < len(row):
            campaign = row[campaign_col].strip()
        if campaign and not is_campaign_id(campaign):
            reason = "campaign_id must be exactly 5 characters of [0-9A-Za-z]"
            stats.reject(name, lineno, show_str(campaign), reason)
            return "", None
        if not campaign:
            if self.default_campaign is None:
                stats.reject(name, lineno, show_str(joined), NO_CAMPAIGN)
                return "", None
            campaign = self.default_campaign
        return campaign, value


class _CsvLines:
    """Decoded lines (newline kept) for the csv module, from raw line blocks.

    Invalid UTF-8 is kept as surrogate escapes so that its row can be reported, not raised on.
    A line over MAX_LINE bytes is reported here and handed on as an empty line, which keeps the
    numbering of the lines after it.
    """

    def __init__(self, line_blocks: Iterator[list[bytes]], stats: IngestStats, name: str) -> None:
        self._blocks = line_blocks
        self._lines: Iterator[bytes] = iter(())
        self._stats = stats
        self._name = name
        self._max_line = blocks.MAX_LINE
        self.lineno = 0
        self.last = ""

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        raw = next(self._lines, None)
        while raw is None:
            self._lines = iter(next(self._blocks))  # its StopIteration ends these lines too
            raw = next(self._lines, None)
        self.lineno += 1
        if len(raw) > self._max_line:
            self._stats.reject(self._name, self.lineno, show(raw.strip(BLANKS)), TOO_LONG)
            self.last = ""
            return "\n"
        self.last = raw.decode("utf-8", "surrogateescape")
        return self.last + "\n"


def _chain_one(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
