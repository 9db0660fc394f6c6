"""The metrics file: a run's figures in the Prometheus text format, for node_exporter.

node_exporter's textfile collector reads ``*.prom`` files from one folder. The file is written
whole to a temporary file in the same folder and renamed over the old one, so the collector never
reads half a file. It is written when the run starts sending, every ``progress_interval`` during
the run, and at the end (refusals included). ``bulkremove_last_success_timestamp_seconds`` moves
only on exit code 0; otherwise the value in the existing file is carried over. Every series
carries a ``job`` label (setting ``job_name``), so several purges on one host, each with its own
file, share one textfile folder without clashing series.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from pathlib import Path

import anyio

from bulkremove.files import write_atomically
from bulkremove.journal import Journal
from bulkremove.logs import get_logger
from bulkremove.outputs import check_output_path
from bulkremove.progress import Progress

LAST_SUCCESS = "bulkremove_last_success_timestamp_seconds"
_ANSWERED = "answered"


def read_last_success(path: str) -> float | None:
    """The last-success time in an existing metrics file, or None."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        if line.startswith((LAST_SUCCESS + " ", LAST_SUCCESS + "{")):
            with contextlib.suppress(ValueError, IndexError):
                return float(line.rsplit(None, 1)[1])
    return None


def outcome_label(error_class: str) -> str:
    """``ThrottledError`` -> ``throttled``: a request outcome as a label value."""
    stem = error_class.removesuffix("Error") or error_class
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()


def request_outcomes(requests: int, errors: Mapping[str, int]) -> dict[str, int]:
    """Requests by outcome: ``answered`` and one per error class."""
    out = {_ANSWERED: max(0, requests - sum(errors.values()))}
    for name, count in sorted(errors.items()):
        label = outcome_label(name)
        out[label] = out.get(label, 0) + count
    return out


def render(
    *,
    records: Mapping[str, Mapping[str, int]],
    requests: Mapping[str, int],
    duration_s: float,
    exit_code: int | None,
    now: float,
    last_success: float | None,
    job: str = "bulkremove",
) -> str:
    """The file's text. ``exit_code`` None: the run is still going."""
    out: list[str] = []
    job_label = f'job="{_escaped(job)}"'

    def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(f"{name}{{{job_label}{labels}}} {_number(value)}" for labels, value in samples)

    metric(
        "bulkremove_records",
        "gauge",
        "Records of the run's journal by campaign and state.",
        [
            (f',campaign="{_escaped(campaign)}",state="{state}"', count)
            for campaign, states in sorted(records.items())
            for state, count in states.items()
        ],
    )
    metric(
        "bulkremove_requests",
        "gauge",
        "Requests sent by this run, by outcome (answered, or the error class).",
        [(f',outcome="{outcome}"', count) for outcome, count in requests.items()],
    )
    metric(
        "bulkremove_duration_seconds", "gauge", "Seconds this run has taken.", [("", duration_s)]
    )
    metric("bulkremove_running", "gauge", "1 while a run is going.", [("", exit_code is None)])
    if exit_code is not None:
        metric("bulkremove_exit_code", "gauge", "Exit code of the last run.", [("", exit_code)])
    metric(
        "bulkremove_last_run_timestamp_seconds",
        "gauge",
        "When this file was last written (unix seconds).",
        [("", now)],
    )
    if last_success is not None:
        metric(
            LAST_SUCCESS,
            "gauge",
            "When a run last finished with exit code 0.",
            [("", last_success)],
        )
    return "\n".join(out) + "\n"


def _escaped(value: str) -> str:
    """A label value as the text format writes it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class MetricsFile:
    """The metrics file of one run. Check it with :meth:`check` before anything is sent."""

    def __init__(self, path: str, *, durable: bool = False, job: str = "bulkremove") -> None:
        self.path = path
        self._durable = durable
        self._job = job
        self._started = time.monotonic()
        self._last_success = read_last_success(path)

    def check(self) -> None:
        """Refuse a metrics file whose folder does not exist or cannot be written."""
        check_output_path("metrics_file", self.path)

    def write(
        self,
        *,
        records: Mapping[str, Mapping[str, int]],
        requests: int = 0,
        errors: Mapping[str, int] | None = None,
        exit_code: int | None,
    ) -> None:
        """Write the figures; a failure is logged, never raised (the run matters more)."""
        now = time.time()
        if exit_code == 0:
            self._last_success = now
        text = render(
            records=records,
            requests=request_outcomes(requests, errors or {}),
            duration_s=time.monotonic() - self._started,
            exit_code=exit_code,
            now=now,
            last_success=self._last_success,
            job=self._job,
        )
        try:
            write_atomically(self.path, text.encode(), durable=self._durable)
        except OSError as exc:
            get_logger("metrics").warning("metrics_not_written", path=self.path, error=str(exc))


class MetricsProgress:
    """A progress sink that rewrites the metrics file every ``interval`` seconds of a run.

    The counts per campaign come from the journal through a read-only connection of its own, in
    a worker thread, so the engine's connection is never held up.
    """

    def __init__(self, metrics: MetricsFile, journal: str, interval: float) -> None:
        self._metrics = metrics
        self._journal = journal
        self._interval = interval

    @property
    def interval(self) -> float:
        return self._interval

    def start(self, plan: object) -> None:
        pass

    async def update(self, progress: Progress) -> None:
        await anyio.to_thread.run_sync(self._write, progress)

    def finish(self, progress: Progress) -> None:
        pass  # the caller writes the final file, with the exit code

    def _write(self, progress: Progress) -> None:
        try:
            with Journal.open(self._journal) as journal:
                records = journal.counts()
        except Exception as exc:  # a metrics hiccup must not stop a run
            get_logger("metrics").warning(
                "metrics_not_written", path=self._metrics.path, error=str(exc)
            )
            return
        self._metrics.write(
            records=records, requests=progress.requests, errors=progress.errors, exit_code=None
        )
