"""Headless Chromium, driven over the Chrome DevTools Protocol with aiohttp's websocket client.

:func:`open_pages` starts Debian's Chromium with a fresh profile and every background fetch
turned off, loads each page, and gives back what a test checks: the value of a JavaScript
expression once the page has loaded, the console's errors and the requests the page made.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
)


def chromium() -> str | None:
    """The Chromium to start, or None where there is none."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Loaded:
    """One page as the browser saw it."""

    value: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_pages(pages: list[Path], expression: str, timeout: float = 30) -> list[Loaded]:
    """Load each page in turn in one headless Chromium; ``expression`` is evaluated in each
    once it has loaded and its script set ``document.body.dataset.charts`` (its value returned).
    """
    urls = [page.resolve().as_uri() for page in pages]
    with tempfile.TemporaryDirectory(prefix="bulkremove-chromium-") as profile:
        return asyncio.run(asyncio.wait_for(_open_pages(urls, expression, profile), timeout))


async def _open_pages(urls: list[str], expression: str, profile: str) -> list[Loaded]:
    binary = chromium()
    assert binary is not None
    process = await asyncio.create_subprocess_exec(
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = await _devtools_port(Path(profile), process)
        async with aiohttp.ClientSession() as session:
            listed = await (await session.get(f"http://127.0.0.1:{port}/json/list")).json()
            target = next(t for t in listed if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tab = _Tab(ws)
                for domain in ("Runtime", "Log", "Network", "Page"):
                    await tab.call(f"{domain}.enable")
                return [await tab.load(url, expression) for url in urls]
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """The port Chromium listens on, from the file it writes into its profile."""
    deadline = time.monotonic() + 20
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int(marker.read_text().split()[0])
        await asyncio.sleep(0.05)
    raise RuntimeError("chromium did not open its DevTools port")


class _Tab:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next = 0
        self._loaded: Loaded | None = None

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self._ws.receive_json()
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._event(message)

    async def load(self, url: str, expression: str) -> Loaded:
        loaded = self._loaded = Loaded(None)
        await self.call("Page.navigate", url=url)
        ready = (
            f"location.href === {url!r} && document.readyState === 'complete'"
            " && document.body.dataset.charts !== undefined"
        )
        while True:
            with contextlib.suppress(RuntimeError):  # no context while the page is replaced
                answer = await self.call("Runtime.evaluate", expression=ready)
                if answer["result"].get("value") is True:
                    break
            await asyncio.sleep(0.05)
        answer = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            loaded.errors.append(f"evaluating the check: {answer['exceptionDetails']}")
        loaded.value = answer["result"].get("value")
        return loaded

    def _event(self, message: dict[str, Any]) -> None:
        method, params, loaded = message.get("method"), message.get("params", {}), self._loaded
        if loaded is None:
            return
        if method == "Runtime.exceptionThrown":
            loaded.errors.append(str(params["exceptionDetails"]))
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            loaded.errors.append(str(params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            loaded.errors.append(params["entry"]["text"])
        elif method == "Network.requestWillBeSent":
            loaded.requests.append(params["request"]["url"])
