"""The command line: parsing, dispatch, output, and the mapping of errors to exit codes.

Exit codes: 0 every record removed or not found; 2 refused before anything was sent (usage,
configuration, input, journal); 3 aborted by a fatal API answer; 4 finished with records left
``in_call``, ``failed`` or ``pending``; 130 interrupted by SIGINT or SIGTERM (resumable).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import anyio
import orjson

from bulkremove import __version__
from bulkremove.errors import FatalApiError, JournalError, UsageError
from bulkremove.logs import configure
from bulkremove.report import (
    EXIT_FATAL_API,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    STATES,
    build_report,
    summary_lines,
)
from bulkremove.sandbox import cli as sandbox_cli
from bulkremove.settings import load_settings

_RUN_EXAMPLE = """\
examples:
  BULKREMOVE_PASSWORD=... bulkremove run --base-url https://acme.thulium.com/api \\
      --campaign 00001 --input ids.txt --report report.json
  bulkremove run --config purge.toml --input export.csv
  bulkremove run --resume bulkremove-runs/20261129T020000Z-00001.sqlite

exit codes: 0 all removed or not found; 2 refused, nothing sent; 3 aborted by the API
(401/403/unknown campaign); 4 records left in_call, failed or pending; 130 interrupted
"""

# (settings key, type, help); the flag is the key with dashes.
_LIMIT_FLAGS: list[tuple[str, type, str]] = [
    ("concurrency", int, "requests in flight at once (default 8)"),
    ("rate", float, "requests per second, a ceiling (default 10)"),
    ("rate_burst", int, "requests that may start at once after idling (default 2)"),
    ("max_url_length", int, "byte budget of path+query as sent (default 8000)"),
    ("max_ids_per_request", int, "most ids in one request (default 500)"),
    ("request_timeout", float, "seconds for a whole request (default 30)"),
    ("connect_timeout", float, "seconds to connect (default 10)"),
    ("call_retry_timeout", float, "seconds to keep retrying a record in a call (default 900)"),
    ("call_retry_initial", float, "first delay for a record in a call (default 5)"),
    ("call_retry_max", float, "longest delay for a record in a call (default 60)"),
    ("max_attempts", int, "tries per batch for transient failures (default 8)"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkremove",
        description="Remove records from Thulium outbound campaigns in bulk.",
    )
    parser.add_argument("--version", action="version", version=f"bulkremove {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_run(commands)
    _add_report(commands)
    _add_export(commands)
    _add_demo(commands)
    sandbox = commands.add_parser(
        "sandbox",
        help="serve a local imitation of the Thulium batch-delete API",
        description="Serve a local imitation of the Thulium batch-delete API, for rehearsals "
        "and tests.",
        epilog="example:\n  bulkremove sandbox --port 8080 --campaign 00001=1-100000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sandbox_cli.add_arguments(sandbox)
    sandbox.set_defaults(handler=sandbox_cli.run)
    return parser


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="remove the records listed in input files",
        description="Remove the customer ids listed in the input files from outbound campaigns. "
        "The password comes from BULKREMOVE_PASSWORD, the config file, or password_file.",
        epilog=_RUN_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="FILE",
        help="ids, one per line, or a .csv with customer_id[,campaign_id]; - is stdin; repeatable",
    )
    run.add_argument("--campaign", help="campaign id for plain-text input, e.g. 00001")
    run.add_argument("--config", metavar="FILE", help="TOML settings (see config.example.toml)")
    run.add_argument("--base-url", help="API root, e.g. https://acme.thulium.com/api")
    run.add_argument("--username", help="API user (the password is never a flag)")
    run.add_argument("--journal", metavar="PATH", help="journal file to create")
    run.add_argument("--resume", metavar="JOURNAL", help="continue the run of this journal")
    run.add_argument("--report", metavar="PATH", help="write the JSON report here (- stdout)")
    run.add_argument(
        "--skip-invalid",
        action="store_const",
        const=True,
        help="go on past invalid input lines, counting them",
    )
    for key, kind, text in _LIMIT_FLAGS:
        run.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, help=text)
    _add_log_flags(run)
    run.set_defaults(handler=_run)


def _add_log_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-format", choices=("console", "json"), help="log line format")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"))


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="print the JSON report of a journal",
        description="Print the JSON report of a journal, finished or not.",
        epilog="example:\n  bulkremove report bulkremove-runs/20261129T020000Z-00001.sqlite",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("journal", metavar="JOURNAL")
    report.set_defaults(handler=_report)


def _add_export(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="print the customer ids of a journal in given states",
        description="Print customer ids in the given states, one per line, ready to be fed "
        "back as input.",
        epilog="example:\n  bulkremove export run.sqlite --state in_call --state failed >retry.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("journal", metavar="JOURNAL")
    export.add_argument(
        "--state", action="append", choices=STATES, required=True, help="repeatable"
    )
    export.add_argument("--campaign", help="only this campaign")
    export.set_defaults(handler=_export)


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run a whole removal against a built-in sandbox",
        description="Start the sandbox on a free loopback port with 200,000 records (about 1%% "
        "in calls that end within seconds), write the id list, run the real engine with a real "
        "journal against it, and print the report.",
        epilog="example:\n  bulkremove demo --records 50000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--records", type=int, default=200_000, help="records in the sandbox")
    demo.add_argument("--dir", default="bulkremove-demo", help="where the ids and journal go")
    _add_log_flags(demo)
    demo.set_defaults(handler=_demo)


# --- handlers ----------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from bulkremove.job import run_job
    from bulkremove.journal import Journal

    if args.resume and args.inputs:
        raise UsageError("--resume continues a journal's own records: give no --input")
    if not args.resume and not args.inputs:
        raise UsageError("give at least one --input FILE (or - for stdin), or --resume JOURNAL")
    stored = None
    if args.resume:
        with Journal.open(args.resume) as journal:
            stored = journal.get_meta("settings")
    flags = {
        key: getattr(args, key)
        for key in ["campaign", "base_url", "username", "skip_invalid", "log_format", "log_level"]
        + [key for key, _, _ in _LIMIT_FLAGS]
    }
    settings, warnings = load_settings(flags, os.environ, args.config, stored=stored)
    configure(settings.log_format, settings.log_level)
    for warning in warnings:
        print(f"bulkremove: warning: {warning}", file=sys.stderr)
    result = anyio.run(
        lambda: run_job(
            settings,
            inputs=args.inputs,
            journal_path=args.journal,
            resume=args.resume,
            handle_signals=True,
        )
    )
    for line in summary_lines(result.report):
        print(line, file=sys.stderr)
    if args.report:
        _write_json(result.report, args.report)
    return result.exit_code


def _report(args: argparse.Namespace) -> int:
    from bulkremove.journal import Journal

    with Journal.open(args.journal) as journal:
        _write_json(build_report(journal, args.journal), "-")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from bulkremove.journal import Journal

    out = sys.stdout
    with Journal.open(args.journal) as journal:
        for _campaign, customer_id in journal.ids_in_states(args.state, args.campaign):
            out.write(f"{customer_id}\n")
    out.flush()
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from bulkremove.demo import run_demo

    configure(args.log_format or "console", args.log_level or "info")
    result = anyio.run(lambda: run_demo(records=args.records, directory=args.dir))
    for line in summary_lines(result.report):
        print(line, file=sys.stderr)
    _write_json(result.report, "-")
    return result.exit_code


def _write_json(data: dict[str, Any], path: str) -> None:
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    if path == "-":
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
        return
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(text)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except (UsageError, JournalError) as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except FatalApiError as exc:
        _fail(f"aborted: {exc}")
        return EXIT_FATAL_API
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _fail(message: str) -> None:
    print(f"bulkremove: error: {message}", file=sys.stderr)
