"""The command line: parsing, dispatch, output, and the mapping of errors to exit codes.

Exit codes: 0 every record removed or not found; 1 internal error (a bug: one line, or the
traceback with ``--debug``); 2 refused before anything was sent (usage, configuration, input,
journal, ``--max-delete``, no confirmation); 3 aborted by a fatal API answer; 4 finished with
records left ``in_call``, ``failed`` or ``pending``; 5 the journal failed after sending started;
6 the input held no ids (unless ``allow_empty``); 7 ``verify`` (or a clean run with ``--verify``)
found the API contradicting the journal; 130 interrupted by SIGINT or SIGTERM; 141 the reader of
stdout went away (``export ... | head``).

This package owns the terminal: ``parser`` the grammar, one module per command family (``run``,
``journals``, ``verify``, ``restore``, ``demo``, ``completion``, ``manpage``), ``question`` the
confirmation, ``output`` every line printed for people.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from bulkremove.cli.output import configure_logs, fail, json_logs, warn
from bulkremove.cli.parser import build_parser
from bulkremove.errors import EmptyInputError, FatalApiError
from bulkremove.exits import (
    EXIT_CLOSED_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    exit_code_for_error,
)
from bulkremove.startup import freeze_before_exit

__all__ = ["build_parser", "console", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "log_format", None) == "json":
        configure_logs("json", "info")  # refusals before the settings are read are events too
    try:
        code: int = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not as a warning at exit
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as group:
        exc = _leaf(group)
        if isinstance(exc, BrokenPipeError):
            return _closed_pipe()
        code = exit_code_for_error(exc)
        trace = {}
        if args.debug and json_logs():
            trace["traceback"] = "".join(traceback.format_exception(group))
        elif args.debug:
            traceback.print_exception(group)
        if code == EXIT_INTERNAL:
            hint = "" if args.debug else "; run with --debug for the traceback"
            fail(f"internal error: {type(exc).__name__}: {exc}{hint}", code, **trace)
        elif isinstance(exc, FatalApiError):
            fail(f"aborted: {exc}", code, **trace)
        elif isinstance(exc, EmptyInputError):
            warn(str(exc))
        else:
            fail(str(exc), code, **trace)
        return code
    return code


def console() -> NoReturn:
    """The ``bulkremove`` command: :func:`main`, then exit with its code."""
    code = main()
    freeze_before_exit()
    sys.exit(code)


def _closed_pipe() -> int:
    # The reader went away (``export ... | head``): nothing more to say to anyone. Later
    # flushes of stdout (at exit) go nowhere instead of raising again.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_CLOSED_PIPE


def _leaf(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
