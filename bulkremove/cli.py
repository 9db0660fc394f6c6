"""The command line: parsing, dispatch, output, and the mapping of errors to exit codes.

Exit codes: 0 every record removed or not found; 1 internal error (a bug: one line, or the
traceback with ``--debug``); 2 refused before anything was sent (usage, configuration, input,
journal, ``--max-delete``, no confirmation); 3 aborted by a fatal API answer; 4 finished with
records left ``in_call``, ``failed`` or ``pending``; 130 interrupted by SIGINT or SIGTERM.

This module owns the terminal: the confirmation question, the choice between the live display
(stderr is a terminal) and ``progress`` log events, and every line printed for people.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import anyio
import orjson

from bulkremove._version import __version__
from bulkremove.errors import FatalApiError, RefusedError, UsageError
from bulkremove.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, exit_code_for_error
from bulkremove.logs import configure
from bulkremove.progress import CurrentStderr, LogProgress, ProgressSink
from bulkremove.report import STATES, build_report, summary_lines
from bulkremove.sandbox import cli as sandbox_cli
from bulkremove.settings import Settings, load_settings

if TYPE_CHECKING:
    from bulkremove.plan import Plan

_RUN_EXAMPLE = """\
examples:
  BULKREMOVE_PASSWORD=... bulkremove run --base-url https://acme.thulium.com/api \\
      --campaign 00001 --input ids.txt --report report.json
  bulkremove run --config purge.toml --input export.csv --dry-run
  bulkremove run --config purge.toml --input export.csv --max-delete 50000 --yes
  bulkremove run --resume bulkremove-runs/20261129T020000Z-00001.sqlite

safety: every run is counted before anything is sent. --dry-run prints the plan and keeps the
journal, marked dry_run (run --resume JOURNAL sends exactly that plan later). --max-delete N
refuses a run that would send more than N ids (after dedupe, over all campaigns; for --resume,
the pending, in_call and failed ids). On a terminal the run asks before sending (answering
anything but y sends nothing, exit 2); without one it needs --yes or assume_yes = true.

exit codes: 0 all removed or not found; 1 internal error; 2 refused, nothing sent; 3 aborted
by the API (401/403/unknown campaign); 4 records left in_call, failed or pending; 130 interrupted
"""

# (settings key, type, help) of the safety and monitoring flags.
_SAFETY_FLAGS: list[tuple[str, type, str]] = [
    ("max_delete", int, "refuse a run that would send more than N ids (nothing is sent)"),
    ("progress_interval", float, "seconds between progress events without a terminal (10)"),
    ("metrics_file", str, "write Prometheus metrics here (node_exporter textfile collector)"),
]

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
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks, and log at debug level"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_run(commands)
    _add_report(commands)
    _add_export(commands)
    _add_runs(commands)
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
    for sub in commands.choices.values():
        # --debug also after the command; SUPPRESS keeps the global one when not given here
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
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
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="read, validate, dedupe and count; print the plan; send nothing. The journal is "
        "kept, marked dry_run: run --resume JOURNAL sends that plan",
    )
    run.add_argument(
        "-y",
        "--yes",
        dest="assume_yes",
        action="store_const",
        const=True,
        help="do not ask before sending (needed without a terminal; config: assume_yes)",
    )
    for key, kind, text in _SAFETY_FLAGS:
        metavar = "N" if kind is int else ("SECONDS" if kind is float else "PATH")
        run.add_argument(
            "--" + key.replace("_", "-"), dest=key, type=kind, metavar=metavar, help=text
        )
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
        help="print a journal's records: ids to feed back (txt), or outcomes (csv, jsonl)",
        description="Print the records of a journal. txt (the default): the customer ids in the "
        "given states, one per line, ready to be fed back as input; --state is required. csv "
        "(with a header) and jsonl: one row per record with campaign_id, customer_id, state, "
        "record_id, attempts and last_error (the raw answer or reason); every state when "
        "--state is not given. Rows are streamed, by campaign then id.",
        epilog="examples:\n"
        "  bulkremove export run.sqlite --state in_call --state failed >retry.txt\n"
        "  bulkremove export run.sqlite --format csv >results.csv\n"
        "  bulkremove export run.sqlite --format jsonl --state failed >errors.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("journal", metavar="JOURNAL")
    export.add_argument(
        "--state",
        action="append",
        choices=STATES,
        help="repeatable; required for txt, all states by default for csv and jsonl",
    )
    export.add_argument("--campaign", help="only this campaign")
    export.add_argument(
        "--format", choices=("txt", "csv", "jsonl"), default="txt", help="default txt"
    )
    export.set_defaults(handler=_export)


def _add_runs(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help="list the journals in a folder with their state and counts",
        description="List the journals (*.sqlite) in DIR, oldest first: campaigns, start time, "
        "state (running, finished, interrupted, aborted, dry run; a journal that says running "
        "while no process holds it is interrupted), exit code, and records per state.",
        epilog="examples:\n  bulkremove runs\n  bulkremove runs /var/lib/bulkremove --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    runs.add_argument(
        "dir", metavar="DIR", nargs="?", help="folder of journals (default: journal_dir)"
    )
    runs.add_argument("--config", metavar="FILE", help="TOML settings, for journal_dir")
    runs.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    runs.set_defaults(handler=_runs)


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
    from bulkremove.plan import Plan
    from bulkremove.remover import BulkRemover
    from bulkremove.resume import resume_settings

    if args.resume and args.inputs:
        raise UsageError("--resume continues a journal's own records: give no --input")
    if not args.resume and not args.inputs:
        raise UsageError("give at least one --input FILE (or - for stdin), or --resume JOURNAL")
    keys = ["campaign", "base_url", "username", "skip_invalid", "log_format", "log_level"]
    keys += [key for key, _, _ in _LIMIT_FLAGS] + [key for key, _, _ in _SAFETY_FLAGS]
    flags = {key: getattr(args, key) for key in [*keys, "assume_yes"]}
    if args.debug:
        flags["log_level"] = "debug"
    settings, warnings = load_settings(flags, os.environ, args.config)
    if args.resume:
        settings, more = resume_settings(settings, args.resume)
        warnings += more
    _configure_logs(settings.log_format, settings.log_level)
    for warning in warnings:
        print(f"bulkremove: warning: {warning}", file=sys.stderr)
    remover = BulkRemover(
        settings,
        confirm=_confirmer(settings),
        progress=_progress_sinks(settings),
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
        return _dry_run_done(outcome, args.report)
    for line in summary_lines(outcome.report):
        print(line, file=sys.stderr)
    if args.report:
        _write_json(outcome.report, args.report)
    return int(outcome.exit_code)


def _configure_logs(log_format: str, level: str) -> None:
    # Through CurrentStderr, so that log lines go above the live display while it is shown.
    configure(log_format, level, stream=cast(TextIO, CurrentStderr()))


def _progress_sinks(settings: Settings) -> list[ProgressSink]:
    if sys.stderr.isatty():
        from bulkremove.display import LiveDisplay

        return [LiveDisplay()]
    return [LogProgress(settings.progress_interval)]


def _confirmer(settings: Settings) -> Callable[[Plan], bool]:
    """The question before a real run: asked on a terminal, else refused unless assume_yes."""

    def confirm(plan: Plan) -> bool:
        if settings.assume_yes:
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise RefusedError(
                f"not confirmed: this run would remove {plan.ids} records on {plan.host}, and "
                "there is no terminal to ask on; pass --yes (or set assume_yes = true in the "
                "config of a scheduled job); nothing sent"
            )
        for line in plan.lines():
            print(line, file=sys.stderr)
        return _ask(plan.question())

    return confirm


def _ask(question: str) -> bool:
    """Ask on the terminal; only y or yes is a yes. Ctrl-C or end of input is a no."""
    # The event loop's SIGINT handler only cancels its task, which would not end a blocking read.
    # Installed before the question shows, so that a Ctrl-C as soon as it is seen is a no.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.stderr.write(question)
        sys.stderr.flush()
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        answer = ""
        sys.stderr.write("\n")
    finally:
        signal.signal(signal.SIGINT, previous)
    return answer.strip().lower() in ("y", "yes")


def _dry_run_done(plan: Plan, report: str | None) -> int:
    for line in plan.lines():
        print(line, file=sys.stderr)
    if plan.resumed:
        print("dry run: nothing sent; the journal is unchanged", file=sys.stderr)
    else:
        print(
            f"dry run: nothing sent; the journal is kept, marked dry_run: "
            f"bulkremove run --resume {plan.journal} sends this plan",
            file=sys.stderr,
        )
    if report:
        _write_json({"dry_run": True, "plan": plan.as_dict()}, report)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from bulkremove.journal import Journal

    with Journal.open(args.journal) as journal:
        _write_json(build_report(journal, args.journal), "-")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
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
            writer.writerow(_EXPORT_COLUMNS)
            for record in journal.records_in_states(states, args.campaign):
                writer.writerow(
                    [
                        record.campaign,
                        record.customer_id,
                        record.state,
                        "" if record.record_id is None else record.record_id,
                        record.attempts,
                        record.detail or "",
                    ]
                )
        else:
            for record in journal.records_in_states(states, args.campaign):
                row = dict(zip(_EXPORT_COLUMNS, _export_values(record), strict=True))
                out.write(orjson.dumps(row).decode() + "\n")
    out.flush()
    return EXIT_OK


# campaign_id, as in input CSVs: a filtered export feeds back as input to the right campaigns
_EXPORT_COLUMNS = ("campaign_id", "customer_id", "state", "record_id", "attempts", "last_error")


def _export_values(record: Any) -> tuple[Any, ...]:
    return (
        record.campaign,
        record.customer_id,
        record.state,
        record.record_id,
        record.attempts,
        record.detail,
    )


def _runs(args: argparse.Namespace) -> int:
    from bulkremove.runs import list_runs, table

    folder = args.dir
    if folder is None:
        settings, _ = load_settings({}, os.environ, args.config)
        folder = settings.journal_dir
    runs = list(list_runs(folder))
    if args.json:
        sys.stdout.buffer.write(
            orjson.dumps([run.as_dict() for run in runs], option=orjson.OPT_INDENT_2) + b"\n"
        )
        sys.stdout.flush()
        return EXIT_OK
    if not runs:
        print(f"no journals in {folder}", file=sys.stderr)
        return EXIT_OK
    for line in table(runs):
        print(line)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from bulkremove.demo import run_demo

    level = "debug" if args.debug else args.log_level or "info"
    _configure_logs(args.log_format or "console", level)
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
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``export ... | head``): nothing more to say to anyone.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INTERNAL
    except Exception as group:
        exc = _leaf(group)
        code = exit_code_for_error(exc)
        if args.debug:
            traceback.print_exception(group)
        if code == EXIT_INTERNAL:
            hint = "" if args.debug else "; run with --debug for the traceback"
            _fail(f"internal error: {type(exc).__name__}: {exc}{hint}")
        elif isinstance(exc, FatalApiError):
            _fail(f"aborted: {exc}")
        else:
            _fail(str(exc))
        return code
    return code


def console() -> NoReturn:
    """The ``bulkremove`` command: :func:`main`, then exit with its code."""
    sys.exit(main())


def _leaf(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _fail(message: str) -> None:
    print(f"bulkremove: error: {message}", file=sys.stderr)
