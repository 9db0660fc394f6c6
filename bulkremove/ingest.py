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
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple, overload

from bulkremove.errors import ConfigError, InputError
from bulkremove.ids import MAX_ID_DIGITS, customer_id_problem, is_campaign_id, parse_customer_id

BLOCK_SIZE = 1 << 20
MAX_LINE = 1 << 16
"""Bytes kept of one line; ids are short, so anything longer is junk (or a long comment)."""
MAX_SHOWN = 10
"""Invalid lines kept for the error message; the rest are only counted."""
SHOWN_CHARS = 80
CSV_BATCH = 1 << 16

STDIN = "-"
STDIN_NAME = "<stdin>"

IdBatch = tuple[str, Sequence[int]]
"""A campaign and some of its customer ids, in input order (duplicates included)."""

_BLANKS = b" \t\r"
_TEXT_ID_BYTES = b"0123456789" + _BLANKS
_DIGIT_LINE_BYTES = b"0123456789\n"
_DIGITS_AS_X = bytes.maketrans(b"0123456789", b"x" * 10)
_TOO_MANY_DIGITS = b"x" * (MAX_ID_DIGITS + 1)
_BOM = b"\xef\xbb\xbf"
_CSV_DELIMITERS = ",;\t"
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


class InputReader:
    """Iterates ``(campaign, ids)`` batches from ``sources``; fills :attr:`stats` as it goes.

    Refuses at once (InputError) when a text source is given without a default campaign, or stdin
    is named twice. A source that cannot be read raises InputError when its turn comes. Invalid
    lines never raise: call ``stats.check()`` after the iteration.
    """

    def __init__(self, sources: Sequence[str], default_campaign: str | None) -> None:
        if default_campaign is not None and not is_campaign_id(default_campaign):
            raise ConfigError(
                f"campaign={default_campaign!r}: a campaign id is exactly 5 characters "
                "of [0-9A-Za-z]"
            )
        if list(sources).count(STDIN) > 1:
            raise InputError("standard input ('-') can be read only once")
        if default_campaign is None:
            for source in sources:
                if not _is_csv(source):
                    raise InputError(
                        f"{_display_name(source)}: --campaign is needed, "
                        "ids in a text file carry no campaign"
                    )
        self.sources = tuple(sources)
        self.default_campaign = default_campaign
        self.stats = IngestStats()
        self._started = False

    def __iter__(self) -> Iterator[IdBatch]:
        if self._started:
            raise RuntimeError("an InputReader can be iterated only once")
        self._started = True
        for source in self.sources:
            name = _display_name(source)
            if source == STDIN:
                yield from self._read_source(sys.stdin.buffer, source, name)
                continue
            try:
                with open(source, "rb") as stream:
                    yield from self._read_source(stream, source, name)
            except OSError as exc:  # reading errors became InputError already: this is open()
                raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc

    def _read_source(self, stream: BinaryIO, source: str, name: str) -> Iterator[IdBatch]:
        try:
            if _is_csv(source):
                yield from self._csv(stream, name)
            else:
                assert self.default_campaign is not None  # checked in __init__
                yield from self._text(stream, name, self.default_campaign)
        except OSError as exc:
            raise InputError(f"{name}: read failed: {exc.strerror or exc}") from exc

    def _reject(self, source: str, line: int, text: str, reason: str) -> None:
        self.stats.invalid += 1
        if len(self.stats.first_invalid) < MAX_SHOWN:
            self.stats.first_invalid.append(InvalidLine(source, line, text, reason))

    def _text(self, stream: BinaryIO, name: str, campaign: str) -> Iterator[IdBatch]:
        stats = self.stats
        lineno = 0
        for chunk in _chunks(stream):
            ids: Sequence[int] | None = _digit_lines(chunk)
            if ids is not None:  # every line a plain id: no int made per line here
                lineno += len(ids)
                stats.lines += len(ids)
                stats.ids += len(ids)
                yield campaign, ids
                continue
            lines = _lines(chunk)
            ids = _clean_block(lines)
            if ids is None:
                ids = self._slow_block(lines, name, lineno)
            lineno += len(lines)
            stats.lines += len(lines)
            stats.ids += len(ids)
            if ids:
                yield campaign, ids

    def _slow_block(self, lines: list[bytes], name: str, before: int) -> list[int]:
        ids: list[int] = []
        append = ids.append
        max_line = MAX_LINE
        for lineno, raw in enumerate(lines, before + 1):
            text = raw.strip(_BLANKS)
            # bytes.isdigit() is ASCII-only: the same test as parse_customer_id, without a call
            if text.isdigit() and len(text) <= MAX_ID_DIGITS and len(raw) <= max_line:
                value = int(text)
                if value:
                    append(value)
                    continue
            if len(raw) > max_line:
                # judged on the bytes kept of it, wherever the blocks happened to split it
                head = raw[: max_line + 1].strip(_BLANKS)
                if not head.startswith(b"#"):
                    self._reject(name, lineno, _show(head), TOO_LONG)
            elif not text or text.startswith(b"#"):
                pass
            elif len(self.stats.first_invalid) < MAX_SHOWN:
                self._reject(name, lineno, _show(text), _bytes_problem(text))
            else:
                self.stats.invalid += 1  # only counted: skip working out why
        return ids

    def _csv(self, stream: BinaryIO, name: str) -> Iterator[IdBatch]:
        stats = self.stats
        counted = stats.lines
        lines = _CsvLines(_line_blocks(stream), self, name)
        header_line = next(lines, None)
        if header_line is None:
            self._reject(name, 1, "''", "empty CSV file: no header row with customer_id")
            return
        stats.lines = counted + 1
        delimiter = next((d for d in _CSV_DELIMITERS if d in header_line), ",")
        reader = csv.reader(_chain_one(header_line, lines), delimiter=delimiter)
        try:
            header = [column.strip().lower() for column in next(reader)]
        except csv.Error as exc:  # e.g. a quote opened in the header and never closed
            stats.lines = counted + lines.lineno
            self._reject(name, 1, _show_str(header_line), f"CSV: {exc}")
            return
        # A quote left open in the header takes the following lines into it.
        stats.lines = counted + lines.lineno
        if "customer_id" not in header:
            self._reject(name, 1, _show_str(header_line), "no customer_id column in the header")
            return
        id_col = header.index("customer_id")
        campaign_col = header.index("campaign_id") if "campaign_id" in header else None
        if campaign_col is None and self.default_campaign is None:
            self._reject(name, 1, _show_str(header_line), NO_CAMPAIGN)
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
                self._reject(name, last_line + 1, _show_str(lines.last), f"CSV: {exc}")
                last_line = reader.line_num
                continue
            lineno, last_line = last_line + 1, reader.line_num
            campaign, value = self._csv_row(row, id_col, campaign_col, name, lineno)
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

    def _csv_row(
        self, row: list[str], id_col: int, campaign_col: int | None, name: str, lineno: int
    ) -> tuple[str, int | None]:
        if not any(cell.strip() for cell in row):
            return "", None  # a blank line, or a line cut at MAX_LINE and already reported
        joined = ",".join(row)
        if "\0" in joined:
            self._reject(name, lineno, _show_str(joined), "line contains NUL")
            return "", None
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            self._reject(name, lineno, _show_str(joined), "line is not valid UTF-8")
            return "", None
        text = row[id_col].strip() if id_col < len(row) else ""
        value = parse_customer_id(text)
        if value is None:
            self._reject(name, lineno, _show_str(text), customer_id_problem(text))
            return "", None
        campaign = ""
        if campaign_col is not None and campaign_col < len(row):
            campaign = row[campaign_col].strip()
        if campaign and not is_campaign_id(campaign):
            reason = "campaign_id must be exactly 5 characters of [0-9A-Za-z]"
            self._reject(name, lineno, _show_str(campaign), reason)
            return "", None
        if not campaign:
            if self.default_campaign is None:
                self._reject(name, lineno, _show_str(joined), NO_CAMPAIGN)
                return "", None
            campaign = self.default_campaign
        return campaign, value


class _CsvLines:
    """Decoded lines (newline kept) for the csv module, from raw line blocks.

    Invalid UTF-8 is kept as surrogate escapes so that its row can be reported, not raised on.
    A line over MAX_LINE bytes is reported here and handed on as an empty line, which keeps the
    numbering of the lines after it.
    """

    def __init__(self, blocks: Iterator[list[bytes]], owner: InputReader, name: str) -> None:
        self._blocks = blocks
        self._lines: Iterator[bytes] = iter(())
        self._owner = owner
        self._name = name
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
        if len(raw) > MAX_LINE:
            shown = _show(raw.strip(_BLANKS))
            self._owner._reject(self._name, self.lineno, shown, TOO_LONG)
            self.last = ""
            return "\n"
        self.last = raw.decode("utf-8", "surrogateescape")
        return self.last + "\n"


def _chain_one(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _line_blocks(stream: BinaryIO) -> Iterator[list[bytes]]:
    """Lists of consecutive lines (without ``\\n``), each line at most MAX_LINE + 1 bytes."""
    for chunk in _chunks(stream):
        yield _lines(chunk)


def _lines(chunk: bytes) -> list[bytes]:
    """The lines of a chunk, without their ``\\n``."""
    lines = chunk.split(b"\n")
    if chunk.endswith(b"\n"):
        lines.pop()
    return lines


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Runs of whole lines, each ending in ``\\n`` but perhaps the input's last.

    A line is cut at MAX_LINE + 1 bytes where the blocks read split it, and the rest of it
    skipped; a line inside one block is left whole.
    """
    carry = b""
    skipping = False  # inside a line already cut at MAX_LINE: drop bytes up to its end
    first = True
    while True:
        block = stream.read(BLOCK_SIZE)
        if not block:
            break
        if first:
            first = False
            while len(block) < len(_BOM) and (more := stream.read(BLOCK_SIZE)):
                block += more
            if block.startswith(_BOM):
                block = block[len(_BOM) :]
        if skipping:
            end = block.find(b"\n")
            if end < 0:
                continue
            block = block[end + 1 :]
            skipping = False
        data = carry + block
        end = data.rfind(b"\n") + 1
        chunk, carry = data[:end], data[end:]
        if len(carry) > MAX_LINE:
            chunk += carry[: MAX_LINE + 1] + b"\n"
            carry = b""
            skipping = True
        if chunk:
            yield chunk
    if carry:
        yield carry


class TextIds(Sequence[int]):
    """The ids of a run of lines that are each a plain id, kept as their text.

    The journal hands the text to SQLite as one JSON array, so no int is made per line in
    Python; reading the sequence makes them all at once.
    """

    __slots__ = ("_len", "_text", "_values")

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._len = text.count(b"\n") + 1
        self._values: list[int] | None = None

    def as_json(self) -> str:
        """The ids as a JSON array (valid: no empty line, no leading zero)."""
        return "[" + self._text.replace(b"\n", b",").decode("ascii") + "]"

    def _ids(self) -> list[int]:
        if self._values is None:
            self._values = list(map(int, self._text.split(b"\n")))
        return self._values

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        return self._ids()[index]

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return self._ids() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TextIds({self._ids()!r})"


def _digit_lines(chunk: bytes) -> TextIds | None:
    """The chunk's ids when every line is digits alone, 1 to 18 of them, no leading zero.

    Checked with a few passes over the bytes in C; anything else (blanks, comments, blank
    lines, zeros, junk) returns None and is read line by line.
    """
    text = chunk[:-1] if chunk.endswith(b"\n") else chunk
    if (
        not text
        or text.translate(None, _DIGIT_LINE_BYTES)
        or text.startswith((b"\n", b"0"))
        or text.endswith(b"\n")
        or b"\n\n" in text
        or b"\n0" in text
        or _TOO_MANY_DIGITS in text.translate(_DIGITS_AS_X)
    ):
        return None
    return TextIds(text)


def _clean_block(lines: list[bytes]) -> list[int] | None:
    """The ids of a block where every line is a valid id, else None (walk it line by line)."""
    if b"".join(lines).translate(None, _TEXT_ID_BYTES):
        return None
    if max(map(len, lines)) > MAX_ID_DIGITS:
        return None
    try:
        ids = list(map(int, lines))  # int() skips surrounding blanks; a blank line raises
    except ValueError:
        return None
    return None if 0 in ids else ids


def _bytes_problem(text: bytes) -> str:
    if b"\0" in text:
        return "line contains NUL"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "line is not valid UTF-8"
    return customer_id_problem(text)


def _show(raw: bytes) -> str:
    """``raw`` quoted and escaped so that control bytes show, cut to about SHOWN_CHARS."""
    try:
        return _show_str(raw.decode("utf-8"))
    except UnicodeDecodeError:
        cut = raw[:SHOWN_CHARS]
        return repr(cut)[1:] + ("..." if len(raw) > SHOWN_CHARS else "")


def _show_str(text: str) -> str:
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # surrogate-escaped bytes
        return _show(text.encode("utf-8", "surrogateescape"))
    return repr(text[:SHOWN_CHARS]) + ("..." if len(text) > SHOWN_CHARS else "")


def _is_csv(source: str) -> bool:
    return source != STDIN and source.lower().endswith(".csv")


def _display_name(source: str) -> str:
    return STDIN_NAME if source == STDIN else source
