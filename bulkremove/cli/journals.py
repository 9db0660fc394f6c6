"""The commands that read journals: ``report``, ``export`` and ``runs``."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Any

import orjson

from bulkremove.cli.output import write_json
from bulkremove.errors import UsageError
from bulkremove.exits import EXIT_OK
from bulkremove.report import build_report
from bulkremove.settings import load_settings

# campaign_id, as in input CSVs: a filtered export feeds back as input to the right campaigns
EXPORT_COLUMNS = (
    "campaign_id",
    "customer_id",
    "state",
    "record_id",
    "attempts",
    "answer_lost",
    "last_error",
)


def report_command(args: argparse.Namespace) -> int:
    from bulkremove.journal import Journal

    with Journal.open(args.journal) as journal:
        write_json(build_report(journal, args.journal), "-")
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    from bulkremove.journal import STATES as JOURNAL_STATES
    from bulkremove.journal import Journal

    if args.format == "txt" and not args.state:
        raise UsageError(
            "--state is required for --format txt (e.g. --state in_call); "
            "--format csv or jsonl exports every state"
        )
    states = args.state or JOURNAL_STATES
    out = sys.stdout
    with Journal.open(args.journal) as journal:
        if args.format == "txt":
            for _campaign, customer_id in journal.ids_in_states(states, args.campaign):
                out.write(f"{customer_id}\n")
        elif args.format == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(EXPORT_COLUMNS)
            for record in journal.records_in_states(states, args.campaign):
                values = _export_values(record)
                writer.writerow([_csv_cell(value) for value in values])
        else:
            for record in journal.records_in_states(states, args.campaign):
                row = dict(zip(EXPORT_COLUMNS, _export_values(record), strict=True))
                out.write(orjson.dumps(row).decode() + "\n")
    out.flush()
    return EXIT_OK


def _export_values(record: Any) -> tuple[Any, ...]:
    return (
        record.campaign,
        record.customer_id,
        record.state,
        record.record_id,
        record.attempts,
        record.answer_lost,
        record.detail,
    )


def _csv_cell(value: Any) -> Any:
    """Flags as JSON writes them (not Python's True), null as the empty cell."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return value


def runs_command(args: argparse.Namespace) -> int:
    from bulkremove.runs import list_runs, table

    folder = args.dir
    if folder is None:
        settings, _ = load_settings({}, os.environ, args.config)
        folder = settings.journal_dir
    if args.prune or args.older_than or args.force or args.dry_run:
        return _prune(args, folder)
    runs = list(list_runs(folder))
    if args.json:
        write_json([run.as_dict() for run in runs], "-")
        return EXIT_OK
    if not runs:
        print(f"no journals in {folder}", file=sys.stderr)
        return EXIT_OK
    for line in table(runs):
        print(line)
    return EXIT_OK


def _prune(args: argparse.Namespace, folder: str) -> int:
    from bulkremove.prune import lines, parse_age, prune

    if not args.prune:
        raise UsageError("--older-than, --force and --dry-run go with --prune")
    if args.older_than is None:
        raise UsageError("--prune needs --older-than AGE, e.g. --older-than 30d")
    if args.json:
        raise UsageError("--prune prints lines; --json lists the journals without --prune")
    done = prune(folder, parse_age(args.older_than), force=args.force, dry_run=args.dry_run)
    for line in lines(done, dry_run=args.dry_run):
        print(line)
    if not done:
        print(f"no journals older than {args.older_than} in {folder}", file=sys.stderr)
    return EXIT_OK
