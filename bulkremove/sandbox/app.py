"""The API side of the sandbox: the batch-delete endpoint and its front-server behaviour.

A request passes, in order: latency, the URL-length limit (414), the rate limit (429), the proxy
faults (5xx, HTML page), authentication (401), permission (403), routing (404/405), the campaign
(404), validation of the ids (400); then the records are removed, the answer is made hostile if
asked (tests only), and it is sent, sent late, or never sent. The query is parsed here by hand:
it is the hot path of every benchmark.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import math
import random
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_plus

import orjson
from aiohttp import web

from bulkremove.sandbox.bucket import TokenBucket
from bulkremove.sandbox.config import SandboxConfig
from bulkremove.sandbox.faults import After, draw_after, draw_error, draw_html, draw_latency
from bulkremove.sandbox.hostile import hostile_response, not_found_response
from bulkremove.sandbox.responses import (
    CODE_AUTHENTICATION,
    CODE_METHOD,
    CODE_NOT_FOUND,
    CODE_PERMISSION,
    CODE_RATE_LIMIT,
    CODE_SERVER,
    CODE_URI_TOO_LONG,
    CODE_VALIDATION,
    ENTRY_IN_CALL,
    ENTRY_NOT_EXIST,
    JSON,
    RECORD_ID_OFFSET,
    error_response,
    html_response,
)
from bulkremove.sandbox.state import Campaign, Outcome, SandboxState
from bulkremove.sandbox.stats import Stats

API_ROOT = "/api"
QUERY_KEYS = frozenset({"customer_id[]", "customer_id%5B%5D", "customer_id%5b%5d"})
_FAST_KEYS = ("customer_id%5B%5D=", "customer_id[]=")
_RECORDS_PATH = ("batch", "crm_outbounds", "records")  # around the campaign id
_MAX_ID_CHARS = 19  # no seeded id is longer, so a longer one cannot exist
_REMOVED = Outcome.REMOVED
_NOT_EXIST = Outcome.NOT_EXIST


class ValidationError(ValueError):
    """The request's ids are invalid; answered 400."""


def customer_ids(query: str) -> list[str]:
    """The ``customer_id[]`` values of a raw query string, in order, as ASCII digits."""
    # Fast path: one key spelling throughout, digits only, checked by C-level string methods.
    for key in _FAST_KEYS:
        if query.startswith(key):
            ids = query[len(key) :].split("&" + key)
            joined = "".join(ids)
            if joined.isascii() and joined.isdigit() and all(ids):
                return ids
            break
    return _customer_ids_slowly(query)


def _customer_ids_slowly(query: str) -> list[str]:
    ids: list[str] = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key not in QUERY_KEYS and unquote_plus(key) != "customer_id[]":
            continue  # other parameters are ignored, as PHP does
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        if not value:
            raise ValidationError("customer_id[] must not be empty")
        if not (value.isascii() and value.isdigit()):
            raise ValidationError(f"customer_id[] {value[:40]!r} must be an integer")
        ids.append(value)
    if not ids:
        raise ValidationError("customer_id[] is required")
    return ids


def _customer_id(text: str) -> int:
    """The id of ASCII digits ``text``; -1, which no campaign holds, when it is too long."""
    return int(text) if len(text.lstrip("0")) <= _MAX_ID_CHARS else -1


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class SandboxApp:
    """Handlers and the live state behind them; ``config`` may be replaced while serving."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.wall = wall
        self.state = SandboxState(config, clock)
        self.stats = Stats(clock)
        self.rng = random.Random(self.state.seed)
        self.bucket = self._make_bucket(config)
        token = base64.b64encode(f"{config.username}:{config.password}".encode()).decode()
        self._authorization = f"Basic {token}"

    def _make_bucket(self, config: SandboxConfig) -> TokenBucket | None:
        if config.rate_limit is None:
            return None
        return TokenBucket(config.rate_limit, config.rate_burst, self.clock)

    def reconfigure(self, **changes: Any) -> SandboxConfig:
        """Change limits and faults; raises ValueError (and changes nothing) if one is invalid."""
        old = self.config
        new = dataclasses.replace(old, **changes)
        if (new.rate_limit, new.rate_burst) != (old.rate_limit, old.rate_burst):
            self.bucket = self._make_bucket(new)
        self.config = new
        return new

    def application(self) -> web.Application:
        """The aiohttp app: the API under ``/api``, the admin endpoints under ``/_sandbox``."""
        from bulkremove.sandbox.admin import add_admin_routes

        app = web.Application()
        app.router.add_route("*", API_ROOT + "/{tail:.*}", self.handle_api)
        add_admin_routes(app, self)
        return app

    async def handle_api(self, request: web.Request) -> web.StreamResponse:
        """Every request under ``/api``: counted, then answered (or not)."""
        stats = self.stats
        target = request.raw_path
        stats.started(len(target))
        status: int | None = None
        try:
            response = await self._answer(request, target)
            if response is not None:
                status = response.status
                return response
            # The drop fault: the transport is gone; this response is never written.
            return web.Response(status=599)
        finally:
            stats.finished(status)

    async def _answer(self, request: web.Request, target: str) -> web.Response | None:
        config = self.config
        rng = self.rng
        delay = draw_latency(config, rng)
        if delay:
            await asyncio.sleep(delay)

        limit = config.max_target_length
        if limit is not None and len(target) > limit:
            return error_response(
                414, f"request-target of {len(target)} bytes exceeds {limit}", CODE_URI_TOO_LONG
            )
        if self.bucket is not None:
            wait = self.bucket.take()
            if wait:
                return self._throttled(config, wait)
        error = draw_error(config, rng)
        if error is not None:
            return error_response(error, "internal server error", CODE_SERVER)
        if draw_html(config, rng):
            return html_response()

        header = request.headers.get("Authorization")
        if header != self._authorization and (
            header is None or _basic_credentials(header) != (config.username, config.password)
        ):
            return error_response(
                401,
                "authentication failed",
                CODE_AUTHENTICATION,
                {"WWW-Authenticate": 'Basic realm="api"'},
            )
        if config.deny_permission:
            return error_response(
                403, "the API user has no permission for this method", CODE_PERMISSION
            )

        parts = request.match_info["tail"].split("/")
        if len(parts) != 4 or (parts[0], parts[1], parts[3]) != _RECORDS_PATH:
            return error_response(404, "unknown URI", CODE_NOT_FOUND)
        if request.method != "DELETE":
            return error_response(
                405, f"method {request.method} not allowed", CODE_METHOD, {"Allow": "DELETE"}
            )
        campaign = self.state.campaigns.get(parts[2])
        if campaign is None:
            return error_response(404, f"campaign {parts[2][:40]!r} not found", CODE_NOT_FOUND)
        try:
            ids = customer_ids(target.partition("?")[2])
        except ValidationError as exc:
            return error_response(400, str(exc), CODE_VALIDATION)

        if config.hostile == "not_found_404":
            return not_found_response(list(dict.fromkeys(ids)))
        response = self._remove(campaign, ids)
        if config.hostile is not None:
            response = self._hostile(config.hostile, ids, response)
        after = draw_after(config, rng)
        if after is After.DROP:
            if request.transport is not None:
                request.transport.abort()
            return None
        if after is After.LATE:
            await asyncio.sleep(config.late_delay_s)
        return response

    def _remove(self, campaign: Campaign, ids: list[str]) -> web.Response:
        # Duplicates collapse into one entry, the first one's place.
        keys = list(dict.fromkeys(ids))
        if max(map(len, keys)) <= _MAX_ID_CHARS:
            cids = list(map(int, keys))
        else:
            cids = [_customer_id(key) for key in keys]
        outcomes = campaign.remove_many(cids, self.clock())
        removed = outcomes.count(_REMOVED)
        not_exist = outcomes.count(_NOT_EXIST)
        in_call = len(outcomes) - removed - not_exist
        answer: dict[str, object]
        # Uniform answers (the usual case) are built by comprehension or in C; mixed ones by loop.
        if removed == len(outcomes):
            answer = {
                key: {"http_status": 200, "record_id": cid + RECORD_ID_OFFSET, "status": "REMOVED"}
                for key, cid in zip(keys, cids, strict=True)
            }
        elif not_exist == len(outcomes):
            answer = dict.fromkeys(keys, ENTRY_NOT_EXIST)
        else:
            answer = {}
            for key, cid, outcome in zip(keys, cids, outcomes, strict=True):
                if outcome is _REMOVED:
                    answer[key] = {
                        "http_status": 200,
                        "record_id": cid + RECORD_ID_OFFSET,
                        "status": "REMOVED",
                    }
                elif outcome is _NOT_EXIST:
                    answer[key] = ENTRY_NOT_EXIST
                else:
                    answer[key] = ENTRY_IN_CALL
        self.stats.answered(len(ids), removed, not_exist, in_call)
        mixed = (removed > 0) + (not_exist > 0) + (in_call > 0) > 1
        return web.Response(
            body=orjson.dumps(answer), status=207 if mixed else 200, content_type=JSON
        )

    def _hostile(self, mode: str, ids: list[str], response: web.Response) -> web.Response:
        real = response.body
        assert isinstance(real, bytes)  # _remove always answers with bytes
        return hostile_response(mode, list(dict.fromkeys(ids)), real)

    def _throttled(self, config: SandboxConfig, wait: float) -> web.Response:
        # Rounded up, so a client that waits as told finds a token.
        if config.retry_after_http_date:
            retry_after = formatdate(math.ceil(self.wall() + wait), usegmt=True)
        else:
            retry_after = str(max(1, math.ceil(wait)))
        return error_response(
            429, "too many requests", CODE_RATE_LIMIT, {"Retry-After": retry_after}
        )
