"""The ``man`` command: a roff man page (section 1) built from the parser's commands and options.

Written over argparse's actions rather than with argparse-manpage: that tool pastes argparse's
pre-wrapped usage text into the page, which groff then refills into broken lines and warns about.
Walking the actions keeps the page a list of options that groff lays out itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from bulkremove._version import __version__


def man_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    sys.stdout.write(manpage(parser))
    return 0


def manpage(parser: argparse.ArgumentParser) -> str:
    prog = parser.prog
    lines = [
        f'.TH {prog.upper()} 1 "" "{prog} {__version__}" "User Commands"',
        ".SH NAME",
        f"{prog} \\- {_roff(_first_lower(parser.description or ''))}",
        ".SH SYNOPSIS",
        f"\\fB{prog}\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]",
        ".SH DESCRIPTION",
        _roff(parser.description or ""),
        ".SH OPTIONS",
        *_options(parser),
        ".SH COMMANDS",
    ]
    for name, sub in _commands(parser):
        lines += [f".SS {prog} {name}", _roff(sub.description or "")]
        lines += _options(sub)
        if sub.epilog:
            # examples and notes, laid out by hand in the help: kept as written
            lines += [".PP", ".nf", *(_roff(line) for line in sub.epilog.splitlines()), ".fi"]
    return "\n".join(lines) + "\n"


def _commands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option not hidden, under its group's title where the help has one (``run``'s)."""
    formatter = parser._get_formatter()
    lines: list[str] = []
    for group in parser._action_groups:
        shown = [
            action
            for action in group._group_actions
            if action.help is not argparse.SUPPRESS
            and not isinstance(action, argparse._SubParsersAction)
        ]
        if shown and group.title not in ("options", "positional arguments"):
            lines += [".PP", f"\\fI{_roff(group.title or '')}:\\fR"]
        for action in shown:
            help = formatter._expand_help(action) if action.help else ""
            lines += [".TP", _invocation(action), _roff(help)]
    return lines


def _invocation(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"\\fI{_metavar(action)}\\fR"
    names = ", ".join(f"\\fB{_roff(option)}\\fR" for option in action.option_strings)
    return names if action.nargs == 0 else f"{names} \\fI{_metavar(action)}\\fR"


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return _roff(action.metavar)
    if action.choices:
        # spaced, so that groff can break and fill a long list
        return "{" + ", ".join(_roff(str(choice)) for choice in action.choices) + "}"
    return _roff(action.dest.upper())


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:].rstrip(".")


def _roff(text: str) -> str:
    """Text roff reads literally: backslashes and dashes escaped, no line taken for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        "\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n")
    )
