"""Running the sandbox: ``async with Sandbox(config) as sb:`` serves until the block ends."""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bulkremove.sandbox.app import API_ROOT, SandboxApp
from bulkremove.sandbox.config import PARSER_LINE_LIMIT, SandboxConfig
from bulkremove.sandbox.state import SandboxState
from bulkremove.sandbox.stats import Stats

SHUTDOWN_TIMEOUT_S = 1.0
"""How long closing waits for answers still being sent (a late answer is not waited for)."""


def tls_context(config: SandboxConfig) -> ssl.SSLContext | None:
    """The server's TLS context, or None for plain HTTP; OSError if the files are unusable."""
    if config.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


class Sandbox:
    """One sandbox server on ``config.host``:``config.port`` (port 0: any free port)."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.app = SandboxApp(config or SandboxConfig(), clock=clock, wall=wall)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def config(self) -> SandboxConfig:
        """The settings in force now."""
        return self.app.config

    @property
    def state(self) -> SandboxState:
        """Campaigns, records and calls."""
        return self.app.state

    @property
    def stats(self) -> Stats:
        """Counters of API requests."""
        return self.app.stats

    @property
    def host(self) -> str:
        return self.app.config.host

    @property
    def port(self) -> int:
        """The port listened on; known once started."""
        if self._port is None:
            raise RuntimeError("the sandbox is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https`` when serving TLS), the server's root."""
        host = self.host
        scheme = "https" if self.config.tls_cert else "http"
        address = f"[{host}]" if ":" in host else host
        return f"{scheme}://{address}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root, to which a client appends ``/batch/...``."""
        return self.url + API_ROOT

    def reconfigure(self, **changes: Any) -> SandboxConfig:
        """Change limits and faults while serving (same keys as ``POST /_sandbox/faults``)."""
        return self.app.reconfigure(**changes)

    def put_in_call(self, campaign: str, ids: Iterable[int], duration_s: float | None) -> int:
        """Put ``ids`` in a call from now (None: never ends); returns how many exist."""
        end = math.inf if duration_s is None else self.app.clock() + duration_s
        return self.state.campaigns[campaign].put_in_call(ids, end)

    async def start(self) -> None:
        """Bind and serve."""
        # The parser's own limits sit far above max_target_length, so the app answers 414 itself.
        runner = web.AppRunner(
            self.app.application(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            max_line_size=PARSER_LINE_LIMIT,
            max_field_size=PARSER_LINE_LIMIT,
        )
        await runner.setup()
        try:
            context = tls_context(self.config)
            site = web.TCPSite(runner, self.host, self.config.port, ssl_context=context)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop serving; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
