"""``bulkremove run``: settings from the layers, then plan, consent, sending and the report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from bulkremove.cli.output import configure_logs, fail, json_logs, say, warn, write_json
from bulkremove.cli.question import confirmer
from bulkremove.errors import UsageError
from bulkremove.exits import EXIT_OK
from bulkremove.outputs import check_output_path
from bulkremove.progress import LogProgress, ProgressSink
from bulkremove.report import summary_lines
from bulkremove.settings import TABLE, Settings, load_settings

if TYPE_CHECKING:
    from bulkremove.plan import Plan


def run_command(args: argparse.Namespace) -> int:
    from bulkremove.plan import Plan
    from bulkremove.remover import BulkRemover
    from bulkremove.resume import stored_settings

    if args.resume and args.inputs:
        raise UsageError("--resume continues a journal's own records: give no --input")
    if args.resume and args.where:
        raise UsageError("--resume continues a journal's own selection: give no --where")
    if args.where and args.inputs:
        raise UsageError("--where selects the records itself: give no --input")
    if args.report:
        check_output_path("--report", args.report)
    if args.html:
        check_output_path("--html", args.html)
        if args.html == "-" and args.report == "-":
            raise UsageError("--report - and --html - would both write to stdout: give one a file")
    stored = stored_settings(args.resume) if args.resume else None
    settings = command_settings(args, TABLE, stored)
    if not args.resume and not args.inputs and settings.where is None:
        raise UsageError(
            "give at least one --input FILE (or - for stdin), --where KEY=VALUE, "
            "or --resume JOURNAL"
        )
    remover = BulkRemover(
        settings,
        confirm=confirmer(settings),
        progress=progress_sinks(settings),
        handle_signals=True,
    )

    async def go() -> Any:
        async with remover:
            if args.dry_run:
                return await remover.plan(args.inputs, journal=args.journal, resume=args.resume)
            if args.resume:
                return await remover.resume(args.resume)
            return await remover.run(args.inputs, journal=args.journal)

    outcome = anyio.run(go)
    if isinstance(outcome, Plan):
        if args.html:
            write_html(outcome.journal, args.html, settings.durable)
        return _dry_run_done(outcome, args.report, settings.durable)
    lines = summary_lines(outcome.report, outcome.failed_reason)
    say(lines, event="summary", journal=outcome.report["journal"])
    found = outcome.verification
    if found is not None:
        say(found.lines(), event="verified", journal=outcome.report["journal"], **found.figures())
    if args.report:
        write_json(outcome.report, args.report, durable=settings.durable)
    if args.html:
        write_html(outcome.report["journal"], args.html, settings.durable)
    if outcome.error:
        fail(outcome.error, int(outcome.exit_code))
    return int(outcome.exit_code)


def write_html(journal: str, path: str, durable: bool) -> None:
    """The HTML run report of ``journal`` to ``path``, read back from the journal."""
    from bulkremove.journal import Journal
    from bulkremove.page import write_page

    with Journal.open(journal) as opened:
        write_page(opened, journal, path, durable=durable)


def command_settings(
    args: argparse.Namespace, keys: Iterable[str], stored: Mapping[str, Any] | None
) -> Settings:
    """The settings of a command from its flags of ``keys``, the environment, the config file
    and a journal's ``stored`` settings; the logs set up by them, and their warnings shown."""
    flags = {name: getattr(args, name, None) for name in keys}
    if args.debug:
        flags["log_level"] = "debug"
    settings, warnings = load_settings(flags, os.environ, args.config, stored=stored)
    configure_logs(settings.log_format, settings.log_level)
    for warning in warnings:
        warn(warning)
    return settings


def progress_sinks(settings: Settings) -> list[ProgressSink]:
    """The live display on a terminal, else progress events every ``progress_interval``."""
    if sys.stderr.isatty() and not json_logs():  # JSON logs get progress events
        from bulkremove.display import LiveDisplay

        return [LiveDisplay()]
    return [LogProgress(settings.progress_interval)]


def _dry_run_done(plan: Plan, report: str | None, durable: bool) -> int:
    say(plan.lines(), event="plan", **plan.as_dict())
    if plan.resumed:
        done = "dry run: nothing sent; the journal is unchanged"
    else:
        done = (
            "dry run: nothing sent; the journal is kept, marked dry_run: "
            f"bulkremove run --resume {plan.journal} sends this plan"
        )
    say([done], event="dry_run", journal=plan.journal)
    if report:
        write_json({"dry_run": True, "plan": plan.as_dict()}, report, durable=durable)
    return EXIT_OK
