"""``bulkremove demo``: a whole removal against a built-in sandbox, then its report."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

import anyio

from bulkremove.cli.output import configure_logs, say, write_json
from bulkremove.cli.run import progress_sinks
from bulkremove.report import summary_lines
from bulkremove.settings import Settings

REHEARSAL_PORT = 8080
"""The sandbox's own default port, so that the suggested commands work as printed."""


def demo_command(args: argparse.Namespace) -> int:
    from bulkremove.demo import DEMO_CAMPAIGN, IDS_FILE, run_demo

    level = "debug" if args.debug else args.log_level or "info"
    configure_logs(args.log_format or "console", level)
    sinks = progress_sinks(Settings())
    result = anyio.run(lambda: run_demo(records=args.records, directory=args.dir, progress=sinks))
    say(summary_lines(result.report, result.failed_reason), event="summary")
    write_json(result.report, "-")
    closing = closing_lines(result.report, str(Path(args.dir) / IDS_FILE), DEMO_CAMPAIGN)
    say(closing, event="demo_finished")
    return result.exit_code


def closing_lines(report: dict[str, Any], ids_file: str, campaign: str) -> list[str]:
    """What the demo did, and the next step: the same ids planned against a sandbox of one's own."""
    totals = report["totals"]
    records = sum(totals.values())
    happened = (
        f"demo: removed {totals['removed']:,} of {records:,} records from a sandbox on this "
        f"machine in {report['duration_s']:.1f} s (exit {report['exit_code']}); "
        f"journal {report['journal']}"
    )
    rehearsal = (
        f"bulkremove sandbox --port {REHEARSAL_PORT} & bulkremove run --base-url "
        f"http://127.0.0.1:{REHEARSAL_PORT}/api --campaign {campaign} "
        f"--input {shlex.quote(ids_file)} --dry-run"
    )
    return [happened, f"next: {rehearsal}"]
