"""The kind of key read from input, and everything the reader knows of customer ids.

The text and CSV paths name no kind of key: they call the parts of a :class:`KeyKind`, and
:data:`CUSTOMER_ID` is the one kind there is. A text block is tried three ways, fastest first:
all of it bare ids (checked in C over the bytes, no int made per line), all of it ids with
blanks around them (``map(int, ...)`` in one go), else line by line, where comments, blank lines
and junk are told apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import bulkremove.ingest.blocks as blocks
from bulkremove.ids import MAX_ID_DIGITS, customer_id_problem, parse_customer_id
from bulkremove.ingest.blocks import BLANKS
from bulkremove.ingest.problems import TOO_LONG, IngestStats, show

IdBatch = tuple[str, Sequence[int]]
"""A campaign and some of its customer ids, in input order (duplicates included)."""

_TEXT_ID_BYTES = b"0123456789" + BLANKS
_DIGIT_LINE_BYTES = b"0123456789\n"
_DIGITS_AS_X = bytes.maketrans(b"0123456789", b"x" * 10)
_TOO_MANY_DIGITS = b"x" * (MAX_ID_DIGITS + 1)
_HEADER_NAME = rb'"?[A-Za-z_][\w ]*"?'
_HEADER = re.compile(rb"(?:\xef\xbb\xbf)?%s(?:[,;\t] *%s)*" % (_HEADER_NAME, _HEADER_NAME))
"""A first line of column names, one of them naming ids (a BOM first, as spreadsheets write
it): a CSV header."""
LOOKS_LIKE_HEADER = "looks like a CSV header: name the file .csv to read it as CSV"


@dataclass(frozen=True, slots=True)
class KeyKind:
    """How one kind of key is read from text lines and from CSV cells."""

    column: str
    """The CSV header naming the key's column."""
    bare_block: Callable[[bytes], Sequence[int] | None]
    """The keys of a chunk whose every line is a bare key, else None."""
    clean_block: Callable[[list[bytes]], list[int] | None]
    """The keys of lines that are each a valid key, blanks around it allowed, else None."""
    each_line: Callable[[list[bytes], str, int, IngestStats], list[int]]
    """The keys of any lines ``(lines, source, lines before, stats)``, rejecting the bad ones."""
    from_cell: Callable[[str], int | None]
    """The key in a trimmed CSV cell, or None."""
    cell_problem: Callable[[str], str]
    """Why a trimmed CSV cell is not a key."""


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


def digit_lines(chunk: bytes) -> TextIds | None:
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


def clean_block(lines: list[bytes]) -> list[int] | None:
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


def each_line(lines: list[bytes], name: str, before: int, stats: IngestStats) -> list[int]:
    """The ids of ``lines``, numbered from ``before + 1``; comments and blank lines skipped."""
    ids: list[int] = []
    append = ids.append
    max_line = blocks.MAX_LINE
    for lineno, raw in enumerate(lines, before + 1):
        text = raw.strip(BLANKS)
        # bytes.isdigit() is ASCII-only: the same test as parse_customer_id, without a call
        if text.isdigit() and len(text) <= MAX_ID_DIGITS and len(raw) <= max_line:
            value = int(text)
            if value:
                append(value)
                continue
        reject_line(raw, text, name, lineno, stats, customer_id_problem, b"id")
    return ids


def reject_line(
    raw: bytes,
    text: bytes,
    name: str,
    lineno: int,
    stats: IngestStats,
    problem: Callable[[bytes], str],
    header_word: bytes,
) -> None:
    """Count a line that holds no key (``text`` is it trimmed), unless it is blank or a
    comment; ``problem`` says why readable text is no key, ``header_word`` is in a header."""
    max_line = blocks.MAX_LINE
    if len(raw) > max_line:
        # judged on the bytes kept of it, wherever the blocks happened to split it
        head = raw[: max_line + 1].strip(BLANKS)
        if not head.startswith(b"#"):
            stats.reject(name, lineno, show(head), TOO_LONG)
    elif not text or text.startswith(b"#"):
        pass
    elif stats.wants_reason:
        header = lineno == 1 and header_word in text.lower() and _HEADER.fullmatch(text)
        stats.reject(
            name, lineno, show(text), LOOKS_LIKE_HEADER if header else bytes_problem(text, problem)
        )
    else:
        stats.invalid += 1  # only counted: skip working out why


def bytes_problem(text: bytes, problem: Callable[[bytes], str] = customer_id_problem) -> str:
    """Why a trimmed line of text is not a key: ``problem`` says it for readable text."""
    if b"\0" in text:
        return "line contains NUL"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "line is not valid UTF-8"
    return problem(text)


CUSTOMER_ID = KeyKind(
    column="customer_id",
    bare_block=digit_lines,
    clean_block=clean_block,
    each_line=each_line,
    from_cell=parse_customer_id,
    cell_problem=customer_id_problem,
)
