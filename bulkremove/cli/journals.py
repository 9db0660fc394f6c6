"""The commands that read journals: ``report``, ``export`` and ``runs``."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from bulkremove.journal import Journal, State
    from bulkremove.kinds import Kind

from bulkremove.cli.output import write_json
from bulkremove.errors import UsageError
from bulkremove.exits import EXIT_OK
from bulkremove.outputs import check_output_path
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


NUMBER_EXPORT_COLUMNS = (
    "campaign_id",
    "phone_number",
    "state",
    "record_ids",
    "attempts",
    "answer_lost",
    "last_error",
)
"""The export of phone numbers: the number as text, and every record id it removed."""


def report_command(args: argparse.Namespace) -> int:
    from bulkremove.journal import Journal

    if args.html:
        check_output_path("--html", args.html)
        from bulkremove.page import write_page

        with Journal.open(args.journal) as journal:
            write_page(journal, args.journal, args.html)
        return EXIT_OK
    with Journal.open(args.journal) as journal:
        write_json(build_report(journal, args.journal), "-")
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    from bulkremove.journal import STATES as JOURNAL_STATES
    from bulkremove.journal import Journal
    from bulkremove.kinds import kind_of

    if args.restored:
        return _export_restored(args)
    args.format = args.format or "txt"

    if args.format == "txt" and not args.state:
        raise UsageError(
            "--state is required for --format txt (e.g. --state in_call); "
            "--format csv or jsonl exports every state"
        )
    states = args.state or JOURNAL_STATES
    out = sys.stdout
    with Journal.open(args.journal) as journal:
        kind = kind_of(journal.get_meta("settings") or {})
        show = kind.show
        columns = NUMBER_EXPORT_COLUMNS if kind.several_records else EXPORT_COLUMNS
        if args.format == "txt":
            for _campaign, key in journal.ids_in_states(states, args.campaign):
                out.write(f"{show(key)}\n")
        elif args.format == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for values in _export_rows(journal, states, args.campaign, kind):
                writer.writerow([_csv_cell(value) for value in values])
        else:
            for values in _export_rows(journal, states, args.campaign, kind):
                row = dict(zip(columns, values, strict=True))
                out.write(orjson.dumps(row).decode() + "\n")
    out.flush()
    return EXIT_OK


def _export_restored(args: argparse.Namespace) -> int:
    """``export --restored``: one row per record a restore added back, or tried to."""
    from bulkremove.journal import Journal
    from bulkremove.kinds import kind_of

    if args.state:
        raise UsageError("--state names a removal's states: --restored exports every restore row")
    if args.format == "txt":
        raise UsageError("--restored exports rows: --format csv (the default) or jsonl")
    out = sys.stdout
    with Journal.open(args.journal) as journal:
        kind = kind_of(journal.get_meta("settings") or {})
        columns = ("campaign_id", kind.name, "state", "new_record_id", "detail")
        rows = (
            (campaign, kind.show(key), state, rid, detail or None)
            for campaign, key, state, rid, detail in journal.restores()
            if args.campaign is None or campaign == args.campaign
        )
        if args.format == "jsonl":
            for values in rows:
                out.write(orjson.dumps(dict(zip(columns, values, strict=True))).decode() + "\n")
        else:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for values in rows:
                writer.writerow([_csv_cell(value) for value in values])
    out.flush()
    return EXIT_OK


def _export_rows(
    journal: Journal, states: Sequence[State], campaign: str | None, kind: Kind
) -> Iterator[tuple[Any, ...]]:
    """Each record's export values; a phone number's record ids are all it removed."""
    record_ids: dict[int, list[int]] = {}
    last = None
    for record in journal.records_in_states(states, campaign):
        if kind.several_records and record.campaign != last:
            last, record_ids = record.campaign, journal.record_ids_of(record.campaign)
        yield (
            record.campaign,
            kind.show(record.customer_id),
            record.state,
            record_ids.get(record.customer_id, []) if kind.several_records else record.record_id,
            record.attempts,
            record.answer_lost,
            record.detail,
        )


def _csv_cell(value: Any) -> Any:
    """Flags as JSON writes them (not Python's True), null as the empty cell, a list of record
    ids as the ids with a space between."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(map(str, value))
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
