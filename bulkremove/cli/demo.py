"""``bulkremove demo``: a whole removal against a built-in sandbox, then its report."""

from __future__ import annotations

import argparse

import anyio

from bulkremove.cli.output import configure_logs, say, write_json
from bulkremove.report import summary_lines


def demo_command(args: argparse.Namespace) -> int:
    from bulkremove.demo import run_demo

    level = "debug" if args.debug else args.log_level or "info"
    configure_logs(args.log_format or "console", level)
    result = anyio.run(lambda: run_demo(records=args.records, directory=args.dir))
    say(summary_lines(result.report, result.failed_reason), event="summary")
    write_json(result.report, "-")
    return result.exit_code
