"""What the terminal shows: lines for people on stderr, JSON documents, log set-up."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO, cast

import orjson

from bulkremove.files import write_atomically
from bulkremove.logs import configure
from bulkremove.progress import CurrentStderr


def say(lines: Iterable[str]) -> None:
    """Print lines for people on stderr (stdout is kept for data)."""
    for line in lines:
        print(line, file=sys.stderr)


def fail(message: str) -> None:
    print(f"bulkremove: error: {message}", file=sys.stderr)


def configure_logs(log_format: str, level: str) -> None:
    # Through CurrentStderr, so that log lines go above the live display while it is shown.
    configure(log_format, level, stream=cast(TextIO, CurrentStderr()))


def write_json(data: Any, path: str, *, durable: bool = False) -> None:
    """Write ``data`` as indented JSON to ``path`` (atomically), or to stdout for ``-``.

    ``durable`` (``durability = full``) fsyncs the file and its folder.
    """
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    if path == "-":
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
        return
    write_atomically(path, text, durable=durable)
