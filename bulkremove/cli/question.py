"""The question before a real run: asked on a terminal, else refused unless assume_yes."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bulkremove.cli.output import say
from bulkremove.errors import RefusedError
from bulkremove.settings import Settings

if TYPE_CHECKING:
    from bulkremove.plan import Plan


def confirmer(settings: Settings) -> Callable[[Plan], bool]:
    """The confirmation of a plan: yes with assume_yes, the user's answer on a terminal."""

    def confirm(plan: Plan) -> bool:
        if settings.assume_yes:
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise RefusedError(
                f"not confirmed: this run would remove {plan.ids} records on {plan.host}, and "
                "there is no terminal to ask on; pass --yes (or set assume_yes = true in the "
                "config of a scheduled job); nothing sent"
            )
        say(plan.lines(), event="plan", **plan.as_dict())
        return ask(plan.question())

    return confirm


def ask(question: str) -> bool:
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
