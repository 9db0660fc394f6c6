"""Helpers for end-to-end tests: the sandbox and ``bulkremove`` as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD = "api_pass"


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    base_url: str

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/api")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.root + path, timeout=10) as answer:
            return json.loads(answer.read())

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.root + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.get("/_sandbox/stats")
        return stats

    def remaining(self, campaign: str = "00001") -> set[int]:
        return set(self.get(f"/_sandbox/campaigns/{campaign}/records")["ids"])

    def records(self, campaign: str = "00001") -> list[dict[str, Any]]:
        """Every record left in ``campaign`` in full, with ``in_call`` (and phone numbers')."""
        records: list[dict[str, Any]] = self.get(
            f"/_sandbox/campaigns/{campaign}/records?detail=1"
        )["records"]
        return records

    def put_back(self, campaign: str, records: Sequence[dict[str, Any]]) -> list[int]:
        """Add ``records`` (as in a records file) behind a client's back; their record ids."""
        path = f"/_sandbox/campaigns/{campaign}/records"
        rids: list[int] = self.post(path, {"records": list(records)})["record_ids"]
        return rids


@contextmanager
def sandbox(*args: str) -> Iterator[SandboxProcess]:
    """``bulkremove sandbox --port 0 ARGS`` in its own process, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkremove", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            process.kill()
            _, err = process.communicate(timeout=10)
            raise RuntimeError(f"sandbox did not start: {line!r} {err}")
        yield SandboxProcess(process, line.split()[-1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def env(**extra: str) -> dict[str, str]:
    """The environment of a scheduled job that set only the credentials (and ``extra``).

    Like a scheduled job it has ``BULKREMOVE_ASSUME_YES=true``: without a terminal a run is
    otherwise refused. Tests of the confirmation use :func:`env_asking`.
    """
    # COLUMNS and LINES (set by pytest-xdist's workers) would override a terminal's own size.
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BULKREMOVE_") and k not in ("COLUMNS", "LINES")
    }
    clean.update(BULKREMOVE_USERNAME="api_user", BULKREMOVE_PASSWORD=PASSWORD)
    clean.update(BULKREMOVE_ASSUME_YES="true")
    clean.update(extra)
    return clean


def env_asking(**extra: str) -> dict[str, str]:
    """:func:`env` without ``BULKREMOVE_ASSUME_YES``: a person who has not said yes yet."""
    clean = env(**extra)
    del clean["BULKREMOVE_ASSUME_YES"]
    return clean


def bulkremove(
    args: Sequence[str], *, cwd: Path, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``bulkremove ARGS`` as a user would; returns its exit code and output.

    ``options`` as for :func:`run_process` (``environ``, ``stdin``, ``timeout``, ``preexec_fn``).
    """
    return run_process([sys.executable, "-m", "bulkremove", *args], cwd=cwd, **options)


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    environ: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 60,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to its end in :func:`env` (or ``environ``); its exit code and output.

    ``preexec_fn`` runs in the child before ``argv`` starts (to set resource limits).
    """
    return subprocess.run(
        argv,
        cwd=cwd,
        env=environ if environ is not None else env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )


def run_args(
    server: SandboxProcess | str,
    ids: Path | str,
    *extra: str,
    journal: str = "j.sqlite",
    campaign: str | None = "00001",
) -> list[str]:
    """``run --base-url URL --campaign C --input IDS --journal J EXTRA``; no campaign if None."""
    url = server if isinstance(server, str) else server.base_url
    chosen = [] if campaign is None else ["--campaign", campaign]
    return ["run", "--base-url", url, *chosen, "--input", str(ids), "--journal", journal, *extra]


def run_cli(
    server: SandboxProcess | str,
    ids: Path | str,
    *extra: str,
    cwd: Path,
    journal: str = "j.sqlite",
    campaign: str | None = "00001",
    environ: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``bulkremove run`` of ``ids`` against ``server`` (see :func:`run_args`), to its end."""
    args = run_args(server, ids, *extra, journal=journal, campaign=campaign)
    return bulkremove(args, cwd=cwd, environ=environ, stdin=stdin)


def start(args: Sequence[str], *, cwd: Path) -> subprocess.Popen[str]:
    """Start ``bulkremove ARGS`` in the background, to be signalled or killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "bulkremove", *args],
        cwd=cwd,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_left(server: SandboxProcess, left: int, timeout: float = 30) -> None:
    """Wait until the server holds at most ``left`` records of campaign 00001."""
    deadline = time.monotonic() + timeout
    while len(server.remaining()) > left and time.monotonic() < deadline:
        time.sleep(0.05)


def write_ids(path: Path, ids: Sequence[int] | range) -> Path:
    path.write_text("".join(f"{i}\n" for i in ids))
    return path


def write_records(
    path: Path, campaign: str, target: str, records: Sequence[dict[str, Any]]
) -> Path:
    """A ``bulkremove sandbox --records`` file: one campaign of ``target`` with ``records``."""
    document = {"campaign": campaign, "target": target, "records": list(records)}
    path.write_text(json.dumps(document, indent=1))
    return path
