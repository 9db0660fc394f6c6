"""``bulkremove verify``: the journal's settings from the layers, then the API asked."""

from __future__ import annotations

import argparse
import functools

import anyio

from bulkremove.cli.output import say
from bulkremove.cli.run import command_settings
from bulkremove.errors import UsageError

VERIFY_KEYS = (
    "base_url",
    "username",
    "concurrency",
    "rate",
    "request_timeout",
    "log_format",
    "log_level",
)
"""The settings ``verify`` takes as flags; the others come from the journal, env and config."""


def verify_command(args: argparse.Namespace) -> int:
    from bulkremove.resume import stored_settings
    from bulkremove.verify import verify_journal

    if args.seed is not None and args.all:
        raise UsageError("--seed draws a sample: it goes with --sample, not --all")
    settings = command_settings(args, VERIFY_KEYS, stored_settings(args.journal))
    sample = None if args.all else (args.sample or settings.verify_sample)
    go = functools.partial(verify_journal, settings, args.journal, sample=sample, seed=args.seed)
    found = anyio.run(go)
    say(found.lines(), event="verified", journal=args.journal, **found.figures())
    return found.exit_code


def positive(text: str) -> int:
    """An argument that is a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``verify``'s own arguments (the settings' flags of VERIFY_KEYS are added beside them)."""
    parser.add_argument("journal", metavar="JOURNAL", help="the journal file of a run")
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--sample",
        type=positive,
        metavar="N",
        help="check a random sample of N decided records (default: verify_sample, 1000)",
    )
    how.add_argument(
        "--all",
        action="store_true",
        help="list each campaign once and check every decided record",
    )
    parser.add_argument(
        "--seed", type=int, metavar="S", help="draw the sample a verification printed again"
    )
    parser.add_argument("--config", metavar="FILE", help="TOML settings (see config.example.toml)")
