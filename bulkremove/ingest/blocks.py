"""An input stream cut into blocks of whole lines, with memory bounded whatever the input.

Input is read ``BLOCK_SIZE`` bytes at a time; a line longer than ``MAX_LINE`` bytes is cut there
(its rest skipped), so that one huge line cannot take the memory. A UTF-8 byte order mark at the
start is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

BLOCK_SIZE = 1 << 20
MAX_LINE = 1 << 16
"""Bytes kept of one line; ids are short, so anything longer is junk (or a long comment)."""

BLANKS = b" \t\r"
_BOM = b"\xef\xbb\xbf"


def line_blocks(stream: BinaryIO) -> Iterator[list[bytes]]:
    """Lists of consecutive lines (without ``\\n``), each line at most MAX_LINE + 1 bytes."""
    for chunk in chunks(stream):
        yield split_lines(chunk)


def split_lines(chunk: bytes) -> list[bytes]:
    """The lines of a chunk, without their ``\\n``."""
    lines = chunk.split(b"\n")
    if chunk.endswith(b"\n"):
        lines.pop()
    return lines


def chunks(stream: BinaryIO) -> Iterator[bytes]:
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
