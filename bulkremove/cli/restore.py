"""``bulkremove restore``: the journal's settings from the layers, then its removed records
added back."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import TYPE_CHECKING

import anyio

from bulkremove.cli.output import say
from bulkremove.cli.question import ask
from bulkremove.cli.run import command_settings
from bulkremove.cli.verify import positive
from bulkremove.errors import RefusedError
from bulkremove.exits import EXIT_OK
from bulkremove.settings import Settings

if TYPE_CHECKING:
    from bulkremove.kinds import Kind
    from bulkremove.restore import RestorePlan

RESTORE_KEYS = (
    "base_url",
    "username",
    "concurrency",
    "rate",
    "request_timeout",
    "assume_yes",
    "log_format",
    "log_level",
)
"""The settings ``restore`` takes as flags; the others come from the journal, env and config."""


def restore_command(args: argparse.Namespace) -> int:
    from bulkremove.restore import read_keys, restore_journal
    from bulkremove.resume import stored_settings

    settings = command_settings(args, RESTORE_KEYS, stored_settings(args.journal))

    def keys(kind: Kind) -> set[int] | None:
        return None if args.ids is None else read_keys(args.ids, kind)

    go = functools.partial(
        restore_journal,
        settings,
        args.journal,
        states=tuple(dict.fromkeys(args.state or ["removed"])),
        keys=keys,
        dry_run=args.dry_run,
        max_restore=args.max_restore,
        confirm=_confirmer(settings),
    )
    done = anyio.run(go)
    say(done.plan.lines(), event="restore_plan", **done.plan.as_dict())
    if done.dry_run:
        say(["dry run: nothing sent; the journal is unchanged"], event="dry_run")
        return EXIT_OK
    say(done.lines(), event="restored", journal=args.journal, **done.figures())
    return done.exit_code


def _confirmer(settings: Settings) -> functools.partial[bool]:
    return functools.partial(_confirm, settings.assume_yes)


def _confirm(assume_yes: bool, plan: RestorePlan) -> bool:
    if assume_yes:
        return True
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise RefusedError(
            f"not confirmed: this restore would add {plan.count} records back, and there is no "
            "terminal to ask on; pass --yes; nothing sent"
        )
    say(plan.lines(), event="restore_plan", **plan.as_dict())
    return ask(plan.question())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``restore``'s own arguments (the settings' flags of RESTORE_KEYS are added beside them)."""
    from bulkremove.restore import RESTORABLE

    parser.add_argument("journal", metavar="JOURNAL", help="the journal of the run to undo")
    parser.add_argument(
        "--state",
        action="append",
        choices=RESTORABLE,
        help="add back the records in this state (default removed); repeatable",
    )
    parser.add_argument(
        "--ids",
        metavar="FILE",
        help="only these customer ids (phone numbers for a phone campaign), one a line",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be added; send nothing"
    )
    parser.add_argument(
        "--max-restore",
        type=positive,
        metavar="N",
        help="refuse a restore that would add more than N records",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML settings (see config.example.toml)")
