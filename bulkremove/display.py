"""The live display of a run on a terminal (rich), below the log lines.

While it is live, ``sys.stderr`` is a rich proxy: anything written there, log lines included
(they go through :class:`bulkremove.progress.CurrentStderr`), is printed above the display, which
is redrawn below it. The last frame, with the final counts, stays on the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from bulkremove.limiter import shown_rate
from bulkremove.plan import format_duration
from bulkremove.progress import Progress

if TYPE_CHECKING:
    from bulkremove.plan import Plan

REFRESH_S = 0.25
ENDINGS = {
    "finished": "done in",
    "interrupted": "interrupted after",
    "aborted": "aborted after",
    "journal_failed": "journal failed after",
}
"""The last frame's words for each way a run ends."""


class LiveDisplay:
    """A :class:`bulkremove.progress.ProgressSink` that redraws a small panel on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True, highlight=False)
        self._live: Live | None = None
        self._target = ""

    @property
    def interval(self) -> float:
        return REFRESH_S

    def start(self, plan: Plan) -> None:
        self._target = f"{plan.host}, {plan.campaign_list()}"
        self._live = Live(
            Text(f"starting: {plan.ids} records on {self._target}"),
            console=self._console,
            auto_refresh=False,  # redrawn on each update, from the run's own task
            redirect_stdout=False,
            redirect_stderr=True,
            transient=False,
        )
        self._live.start(refresh=True)

    def update(self, progress: Progress) -> None:
        if self._live is not None:
            self._live.update(self.render(progress), refresh=True)

    def finish(self, progress: Progress) -> None:
        if self._live is not None:
            self._live.update(self.render(progress), refresh=True)
            self._live.stop()
            self._live = None

    def render(self, progress: Progress) -> Group:
        """The panel for one sample."""
        counts = Table.grid(padding=(0, 2))
        for _ in range(6):
            counts.add_column()
        counts.add_row(
            f"removed {progress.removed:,}",
            f"not found {progress.not_found:,}",
            f"in call {progress.in_call:,}",
            f"failed {progress.failed:,}",
            f"pending {progress.pending:,}",
            f"of {progress.total:,}",
        )
        rate = "unlimited" if progress.rate is None else f"{shown_rate(progress.rate):g} req/s"
        left = "?" if progress.eta_s is None else format_duration(progress.eta_s)
        if progress.final:
            took = format_duration(progress.elapsed_s)
            ended = ENDINGS.get(progress.ending, "stopped after")
            pace = f"{ended} {took}"
        else:
            pace = f"{progress.ids_per_s:,.0f} ids/s  rate {rate}  left {left}"
        bar = ProgressBar(total=max(progress.total, 1), completed=progress.done, width=30)
        status = Table.grid(padding=(0, 2))
        status.add_column()
        status.add_column()
        status.add_row(bar, Text(f"{pace}  requests {progress.requests:,}  ({self._target})"))
        return Group(counts, status, Text(self._retries(progress)))

    @staticmethod
    def _retries(progress: Progress) -> str:
        return (
            f"elapsed {format_duration(progress.elapsed_s)}  {progress.percent:.0f}% done  "
            f"throttled {progress.throttled:,}  server errors {progress.server_errors:,}  "
            f"timeouts {progress.timeouts:,}  connection errors {progress.connection_errors:,}  "
            f"paused {format_duration(progress.paused_s)}"
        )
