"""The command line's grammar: the commands, their options, and the ``run`` flags of every setting.

The settings' flags come from the table of keys (:mod:`bulkremove.settings.keys`): every key is
a flag of ``run``, grouped by the sections of ``config.example.toml``; the password's flag is
hidden and only refuses.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from bulkremove._version import __version__
from bulkremove.cli.completion import SHELLS, completion_command
from bulkremove.cli.demo import demo_command
from bulkremove.cli.journals import export_command, report_command, runs_command
from bulkremove.cli.manpage import man_command
from bulkremove.cli.restore import RESTORE_KEYS, restore_command
from bulkremove.cli.restore import add_arguments as add_restore_arguments
from bulkremove.cli.run import run_command
from bulkremove.cli.verify import VERIFY_KEYS, verify_command
from bulkremove.cli.verify import add_arguments as add_verify_arguments
from bulkremove.report import STATES
from bulkremove.sandbox import cli as sandbox_cli
from bulkremove.settings import SECTIONS, TABLE, Key

_RUN_EXAMPLE = """\
examples:
  BULKREMOVE_PASSWORD=... bulkremove run --base-url https://acme.thulium.com/api \\
      --campaign 00001 --input ids.txt --report report.json
  bulkremove run --config purge.toml --input export.csv --dry-run
  bulkremove run --config purge.toml --input export.csv --max-delete 50000 --yes
  bulkremove run --resume bulkremove-runs/20261129T020000Z-00001.sqlite
  bulkremove run --config purge.toml --campaign 00001 --where system_status=NO_CALL \\
      --where create_date_to=2025-12-31 --dry-run

safety: every run is counted before anything is sent. --dry-run prints the plan and keeps the
journal, marked dry_run (run --resume JOURNAL sends exactly that plan later). --max-delete N
refuses a run that would send more than N ids (after dedupe, over all campaigns; for --resume,
the pending, in_call and failed ids). On a terminal the run asks before sending (answering
anything but y sends nothing, exit 2); without one it needs --yes or assume_yes = true.

settings: every option outside "what to run" is also a config file key (dashes as underscores)
and an environment variable BULKREMOVE_<KEY>; a flag wins over the environment, which wins over
the file. The password is never a flag: BULKREMOVE_PASSWORD, password or password_file.

exit codes: 0 all removed or not found; 1 internal error; 2 refused, nothing sent (also a
--where selection that never held still); 3 aborted by the API (401/403/unknown campaign, a
listing that failed); 4 records left in_call, failed or pending; 7 a clean run that --verify
found contradicted; 130 interrupted; 141 the reader of stdout went away
"""


class Formatter(argparse.HelpFormatter):
    """Fills text written on one line (descriptions) to the terminal's width; keeps text with
    line breaks of its own (the epilogs' examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


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
    _add_verify(commands)
    _add_restore(commands)
    _add_runs(commands)
    _add_demo(commands)
    sandbox = commands.add_parser(
        "sandbox",
        help="serve a local imitation of the Thulium batch-delete API",
        description="Serve a local imitation of the Thulium batch-delete API, for rehearsals "
        "and tests.",
        epilog="example:\n  bulkremove sandbox --port 8080 --campaign 00001=1-100000",
        formatter_class=Formatter,
    )
    sandbox_cli.add_arguments(sandbox)
    sandbox.set_defaults(handler=sandbox_cli.run)
    _add_shell(commands, parser)
    for sub in commands.choices.values():
        # --debug also after the command; SUPPRESS keeps the global one when not given here
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def add_setting_flags(parser: Any, keys: Iterable[Key]) -> None:
    """One flag per key, converted and offered as the key's rule says; absent is None."""
    for key in keys:
        help = key.help.replace("%", "%%")
        if key.secret:
            # Hidden, and there so that --password is refused by name, not taken as a prefix
            # of --password-file.
            parser.add_argument(*key.options, dest=key.name, help=argparse.SUPPRESS)
            continue
        if key.rule.kind is bool:
            if key.options[-1] != "--" + key.name.replace("_", "-"):
                # a flag of its own name (--yes) only turns the key on
                parser.add_argument(
                    *key.options, dest=key.name, action="store_const", const=True, help=help
                )
                continue
            shown = "on" if key.default else "off"
            parser.add_argument(
                *key.options,
                dest=key.name,
                action=argparse.BooleanOptionalAction,
                help=f"{help} (default {shown})",
            )
            continue
        if key.rule.kind is list:
            parser.add_argument(
                *key.options, dest=key.name, action="append", metavar=key.metavar, help=help
            )
            continue
        if key.default not in (None, ""):
            shown = f"{key.default:g}" if isinstance(key.default, float) else str(key.default)
            help += f" (default {shown})"
        parser.add_argument(
            *key.options,
            dest=key.name,
            type=key.rule.kind,
            choices=key.rule.choices or None,
            metavar=None if key.rule.choices else key.metavar,
            help=help,
        )


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="remove the records listed in input files, or selected by --where",
        description="Remove the customer ids listed in the input files (or the records the API "
        "lists with the --where filters) from outbound campaigns. "
        "The password comes from BULKREMOVE_PASSWORD, the config file, or password_file.",
        epilog=_RUN_EXAMPLE,
        formatter_class=Formatter,
    )
    what = run.add_argument_group("what to run")
    what.add_argument(
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="FILE",
        help="ids, one per line, or a .csv with customer_id[,campaign_id]; - is stdin; repeatable",
    )
    what.add_argument("--config", metavar="FILE", help="TOML settings (see config.example.toml)")
    what.add_argument("--journal", metavar="PATH", help="journal file to create")
    what.add_argument("--resume", metavar="JOURNAL", help="continue the run of this journal")
    what.add_argument("--report", metavar="PATH", help="write the JSON report here (- stdout)")
    what.add_argument(
        "--html",
        metavar="PATH",
        help="write the HTML run report here at the end (- stdout): one self-contained page "
        "with charts",
    )
    what.add_argument(
        "--dry-run",
        action="store_true",
        help="read, validate, dedupe and count; print the plan; send nothing. The journal is "
        "kept, marked dry_run: run --resume JOURNAL sends that plan",
    )
    for section in SECTIONS:
        group = run.add_argument_group(section)
        add_setting_flags(group, [key for key in TABLE.values() if key.section == section])
    run.set_defaults(handler=run_command)


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="print the JSON report of a journal, or write its HTML run report",
        description="Print the JSON report of a journal, finished or not; with --html, write "
        "its HTML run report instead.",
        epilog="examples:\n  bulkremove report bulkremove-runs/20261129T020000Z-00001.sqlite\n"
        "  bulkremove report run.sqlite --html run.html",
        formatter_class=Formatter,
    )
    report.add_argument("journal", metavar="JOURNAL", help="the journal file of a run")
    report.add_argument(
        "--html",
        metavar="PATH",
        help="write the HTML run report (plan, outcomes, charts over time, retries, exit) to "
        "PATH (- stdout) instead of printing the JSON; one self-contained file that fetches "
        "nothing",
    )
    report.set_defaults(handler=report_command)


def _add_export(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="print a journal's records: ids to feed back (txt), or outcomes (csv, jsonl)",
        description="Print the records of a journal. txt (the default): the customer ids in the "
        "given states, one per line, ready to be fed back as input; --state is required. csv "
        "(with a header) and jsonl: one row per record with campaign_id, customer_id, state, "
        "record_id, attempts, answer_lost (an answer that may hide a removal) and last_error (the "
        "raw answer or reason); every state when "
        "--state is not given. Rows are streamed, by campaign then id.",
        epilog="examples:\n"
        "  bulkremove export run.sqlite --state in_call --state failed >retry.txt\n"
        "  bulkremove export run.sqlite --format csv >results.csv\n"
        "  bulkremove export run.sqlite --format jsonl --state failed >errors.jsonl",
        formatter_class=Formatter,
    )
    export.add_argument("journal", metavar="JOURNAL", help="the journal file of a run")
    export.add_argument(
        "--state",
        action="append",
        choices=STATES,
        help="repeatable; required for txt, all states by default for csv and jsonl",
    )
    export.add_argument("--campaign", help="only this campaign")
    export.add_argument(
        "--restored",
        action="store_true",
        help="the restore's rows instead: key, state, new_record_id, detail (csv or jsonl)",
    )
    export.add_argument(
        "--format",
        choices=("txt", "csv", "jsonl"),
        default=None,
        help="default txt (csv with --restored)",
    )
    export.set_defaults(handler=export_command)


def _journal_command(
    commands: Any,
    name: str,
    keys: Iterable[str],
    add_arguments: Callable[[argparse.ArgumentParser], None],
    handler: Callable[[argparse.Namespace], int],
    **texts: str,
) -> None:
    """A command on one journal that takes the settings of ``keys`` as flags beside its own."""
    command = commands.add_parser(name, formatter_class=Formatter, **texts)
    add_arguments(command)
    add_setting_flags(command, [TABLE[key] for key in keys])
    command.set_defaults(handler=handler)


def _add_verify(commands: Any) -> None:
    _journal_command(
        commands,
        "verify",
        VERIFY_KEYS,
        add_verify_arguments,
        verify_command,
        help="ask the API whether a journal is true: removed records gone, others still there",
        description="Ask the API whether what a journal says is true now: records removed or not "
        "found must be gone, records in_call or failed still there; pending ones are not "
        "checked. Checks a seeded random sample (printed; --seed repeats it), or with --all every "
        "decided record against one listing of each campaign. Prints every disagreement and "
        "the figures, and writes them into the journal (bulkremove report shows them). Uses the "
        "journal's settings (API root, rate, concurrency), the password from the usual places.",
        epilog="examples:\n"
        "  bulkremove verify bulkremove-runs/20261129T020000Z-00001.sqlite\n"
        "  bulkremove verify run.sqlite --sample 200 --seed 1234\n"
        "  bulkremove verify run.sqlite --all\n\n"
        "exit codes: 0 the API agrees with every record checked; 7 it contradicts some;\n"
        "2 the journal or settings cannot be used; 3 the API refused or a GET kept failing",
    )


def _add_restore(commands: Any) -> None:
    _journal_command(
        commands,
        "restore",
        RESTORE_KEYS,
        add_restore_arguments,
        restore_command,
        help="add back the records a journal removed, from its snapshot",
        description="Add back the records a journal removed, as its snapshot holds them (a "
        "--where run keeps one): status, agent, next call date and order; batch adds for CRM "
        "campaigns, one add per record for phone campaigns. Each outcome (restored with the new "
        "record id, already_present, failed) is kept in the journal; run it again to continue "
        "a restore that stopped. Call history, notes and the old record ids cannot come back. "
        "Uses the journal's settings, the password from the usual places.",
        epilog="examples:\n"
        "  bulkremove restore bulkremove-runs/20261129T020000Z-00001.sqlite --dry-run\n"
        "  bulkremove restore run.sqlite --ids customers.txt --max-restore 1000 --yes\n\n"
        "exit codes: 0 every record restored or already present; 2 refused, nothing sent (no\n"
        "snapshot, --max-restore, no confirmation); 3 the API refused or kept failing;\n"
        "4 records left failed or pending",
    )


def _add_runs(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help="list the journals in a folder with their state and counts",
        description="List the journals (*.sqlite) in DIR, oldest first: campaigns, start time, "
        "state (running, finished, interrupted, aborted, dry run; a journal that says running "
        "while no process holds it is interrupted), exit code, and records per state.",
        epilog="examples:\n  bulkremove runs\n  bulkremove runs /var/lib/bulkremove --json\n"
        "  bulkremove runs --prune --older-than 30d --dry-run",
        formatter_class=Formatter,
    )
    runs.add_argument(
        "dir", metavar="DIR", nargs="?", help="folder of journals (default: journal_dir)"
    )
    runs.add_argument("--config", metavar="FILE", help="TOML settings, for journal_dir")
    runs.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    runs.add_argument(
        "--prune",
        action="store_true",
        help="remove journals older than --older-than of finished runs (and their -wal, -shm, "
        ".lock and .skipped.txt files); prints what it removed and what it kept",
    )
    runs.add_argument(
        "--older-than",
        metavar="AGE",
        help="with --prune: age since the journal was last written, e.g. 30d, 12h, 2w",
    )
    runs.add_argument(
        "--force",
        action="store_true",
        help="with --prune: remove unfinished journals too (interrupted, aborted, journal "
        "failed, records left); never one being written",
    )
    runs.add_argument(
        "--dry-run", action="store_true", help="with --prune: show what would go, remove nothing"
    )
    runs.set_defaults(handler=runs_command)


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run a whole removal against a built-in sandbox",
        description="Start the sandbox on a free loopback port with 200,000 records (about 1% "
        "in calls that end within seconds), write the id list, run the real engine with a real "
        "journal against it (the live display on a terminal), print the report, and say what "
        "to try next.",
        epilog="example:\n  bulkremove demo --records 50000",
        formatter_class=Formatter,
    )
    demo.add_argument("--records", type=int, default=200_000, help="records in the sandbox")
    demo.add_argument("--dir", default="bulkremove-demo", help="where the ids and journal go")
    add_setting_flags(demo, [TABLE["log_format"], TABLE["log_level"]])
    demo.set_defaults(handler=demo_command)


def _add_shell(commands: Any, parser: argparse.ArgumentParser) -> None:
    completion = commands.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description="Print the completion script of bulkremove's commands and options for SHELL, "
        "generated from this parser.",
        epilog="examples:\n"
        "  bulkremove completion bash >~/.local/share/bash-completion/completions/bulkremove\n"
        "  bulkremove completion zsh >~/.zfunc/_bulkremove   # with fpath+=(~/.zfunc)\n"
        "  bulkremove completion fish >~/.config/fish/completions/bulkremove.fish",
        formatter_class=Formatter,
    )
    completion.add_argument("shell", metavar="SHELL", choices=SHELLS, help="bash, zsh or fish")
    completion.set_defaults(handler=partial(completion_command, parser))
    man = commands.add_parser(
        "man",
        help="print the man page (roff), generated from this parser",
        description="Print bulkremove's man page in roff, generated from this parser.",
        epilog="examples:\n"
        "  bulkremove man | man -l -\n"
        "  bulkremove man >~/.local/share/man/man1/bulkremove.1",
        formatter_class=Formatter,
    )
    man.set_defaults(handler=partial(man_command, parser))
