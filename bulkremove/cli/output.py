"""What the terminal shows: lines for people on stderr, JSON documents, log set-up.

With JSON logs, the lines for people become log events too (``plan``, ``summary``, ``warning``,
``error``, ...), so that every line on stderr is a JSON object.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO, cast

import orjson

from bulkremove.files import write_atomically
from bulkremove.logs import configure, get_logger
from bulkremove.progress import CurrentStderr

_format = {"log": "console"}
"""The log format in force: with ``json``, lines for people go out as events."""


def json_logs() -> bool:
    """Whether logs, and so every line for people, are JSON lines."""
    return _format["log"] == "json"


def say(lines: Iterable[str], *, event: str = "message", **fields: Any) -> None:
    """Print lines for people on stderr (stdout is kept for data); with JSON logs, one
    ``event`` with the lines and ``fields``."""
    if json_logs():
        get_logger("cli").info(event, lines=list(lines), **fields)
        return
    for line in lines:
        print(line, file=sys.stderr)


def warn(message: str) -> None:
    if json_logs():
        get_logger("cli").warning("warning", message=message)
    else:
        print(f"bulkremove: warning: {message}", file=sys.stderr)


def fail(message: str, exit_code: int, **fields: Any) -> None:
    if json_logs():
        get_logger("cli").error("error", message=message, exit_code=exit_code, **fields)
    else:
        print(f"bulkremove: error: {message}", file=sys.stderr)


def configure_logs(log_format: str, level: str) -> None:
    _format["log"] = log_format
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
