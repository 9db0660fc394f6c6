"""The API side of the sandbox: its front-server behaviour, and routing to the endpoints.

A request passes, in order: latency, the URL-length limit (414), the rate limit (429), the proxy
faults (5xx, HTML page), authentication (401), permission (403), routing (404/405), the campaign
(404, also for a campaign of the other kind), validation (400); then the endpoint does its work,
a delete's answer is made hostile if asked (tests only), and the answer is sent, sent late, or
never sent. The CRM batch delete is routed first: it is the hot path of every benchmark.
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

import orjson
from aiohttp import web

from bulkremove.sandbox.adds import AddRefused, add_customers, add_number
from bulkremove.sandbox.bucket import TokenBucket
from bulkremove.sandbox.config import SandboxConfig
from bulkremove.sandbox.crm import customer_ids, remove_customers
from bulkremove.sandbox.detailed import CRM, PHONE
from bulkremove.sandbox.faults import After, draw_after, draw_error, draw_html, draw_latency
from bulkremove.sandbox.hostile import hostile_response, not_found_response, phone_hostile
from bulkremove.sandbox.listing import answer_customer, answer_listing, answer_statuses
from bulkremove.sandbox.phone import phone_query, remove_numbers
from bulkremove.sandbox.responses import (
    CODE_AUTHENTICATION,
    CODE_CONFLICT,
    CODE_METHOD,
    CODE_NOT_FOUND,
    CODE_PERMISSION,
    CODE_RATE_LIMIT,
    CODE_SERVER,
    CODE_TOO_LARGE,
    CODE_URI_TOO_LONG,
    CODE_VALIDATION,
    ValidationError,
    error_response,
    html_response,
    json_response,
)
from bulkremove.sandbox.state import Campaign, SandboxState
from bulkremove.sandbox.stats import Stats

API_ROOT = "/api"
_CRM_DELETE = ("batch", "crm_outbounds", "records")  # around the campaign id
_PHONE_DELETE = ("batch", "outbounds", "records")
_LISTINGS = frozenset({(3, "crm_outbounds", "records"), (3, "outbounds", "records")})
_REFUSALS = frozenset({400, 404, 405, 409, 413})


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
                form = self.config.rate_headers
                if form is not None and self.bucket is not None:
                    said = self.bucket.headers(form)
                    if "Retry-After" not in response.headers or "Retry-After" not in said:
                        response.headers.update(said)
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
        if request.method == "POST":
            answer = await self._add(request, parts)
        elif len(parts) == 4 and (parts[0], parts[1], parts[3]) == _CRM_DELETE:
            answer = self._crm_delete(request, parts[2], target)
        else:
            answer = self._route(request, parts, target)
        if answer.status in _REFUSALS:
            return answer  # nothing was done, so nothing is answered late or lost
        after = draw_after(config, rng)
        if after is After.DROP:
            if request.transport is not None:
                request.transport.abort()
            return None
        if after is After.LATE:
            await asyncio.sleep(config.late_delay_s)
        return answer

    def _route(self, request: web.Request, parts: list[str], target: str) -> web.Response:
        """Every endpoint but the CRM delete; a trailing slash is allowed on these."""
        if len(parts) > 1 and not parts[-1]:
            parts = parts[:-1]
        shape = (len(parts), parts[0], parts[-1])
        if len(parts) == 4 and (parts[0], parts[1], parts[3]) == _PHONE_DELETE:
            return self._phone_delete(request, parts[2], target)
        if shape in _LISTINGS:
            return self._read(request, parts[0], parts[1], target)
        if len(parts) == 4 and (parts[0], parts[2]) == ("crm_outbounds", "records"):
            return self._read(request, parts[0], parts[1], target, customer=parts[3])
        if shape == (3, "outbounds", "statuses"):
            if request.method != "GET":
                return _not_allowed(request.method, "GET")
            campaign = self.state.campaigns.get(parts[1])
            if campaign is None:
                return _campaign_not_found(parts[1])
            return answer_statuses(campaign)
        return error_response(404, "unknown URI", CODE_NOT_FOUND)

    async def _add(self, request: web.Request, parts: list[str]) -> web.Response:
        """The two add endpoints; a body over ``max_body_bytes`` answers 413 unread."""
        if len(parts) > 1 and not parts[-1]:
            parts = parts[:-1]
        if len(parts) == 4 and (parts[0], parts[1], parts[3]) == _CRM_DELETE:
            name, target = parts[2], CRM
        elif len(parts) == 3 and (parts[0], parts[2]) == ("outbounds", "records"):
            name, target = parts[1], PHONE
        else:
            return self._route(request, parts, request.raw_path)  # answers 404 or 405
        campaign = self._campaign(name, target, request.method, "POST")
        if not isinstance(campaign, Campaign):
            return campaign
        limit = self.config.max_body_bytes
        length = request.content_length
        if limit is not None and length is not None and length > limit:
            return error_response(413, f"body of {length} bytes exceeds {limit}", CODE_TOO_LARGE)
        raw = await request.read()
        if limit is not None and len(raw) > limit:
            return error_response(413, f"body of {len(raw)} bytes exceeds {limit}", CODE_TOO_LARGE)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return error_response(400, f"body is not JSON: {exc}", CODE_VALIDATION)
        agents = self.config.agents
        known = None if agents is None else frozenset(agents)
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.wall()))
        if target == CRM:
            try:
                answer, added = add_customers(campaign, body, known, created)
            except ValueError as exc:
                return error_response(400, str(exc), CODE_VALIDATION)
            self.stats.adds += added
            mixed = len({entry["status"] for entry in answer.values()}) > 1
            return json_response(answer, 207 if mixed else 200)
        try:
            rid = add_number(campaign, body, known, created)
        except AddRefused as exc:
            code = CODE_CONFLICT if exc.status == 409 else CODE_VALIDATION
            return error_response(exc.status, str(exc), code)
        self.stats.adds += 1
        return json_response({"record_id": str(rid)}, 201)

    def _read(
        self,
        request: web.Request,
        kind: str,
        name: str,
        target: str,
        customer: str | None = None,
    ) -> web.Response:
        kind_of = CRM if kind == "crm_outbounds" else PHONE
        campaign = self._campaign(name, kind_of, request.method, "GET")
        if not isinstance(campaign, Campaign):
            return campaign
        if customer is not None:
            return answer_customer(campaign, customer, self.stats)
        return answer_listing(campaign, target.partition("?")[2], self.stats)

    def _campaign(
        self, name: str, target: str, method: str, allowed: str
    ) -> Campaign | web.Response:
        """The campaign ``name`` of kind ``target``, or the 405 or 404 to answer instead."""
        if method != allowed:
            return _not_allowed(method, allowed)
        campaign = self.state.campaigns.get(name)
        if campaign is None or campaign.target != target:
            return _campaign_not_found(name)
        return campaign

    def _crm_delete(self, request: web.Request, name: str, target: str) -> web.Response:
        campaign = self._campaign(name, CRM, request.method, "DELETE")
        if not isinstance(campaign, Campaign):
            return campaign
        try:
            ids = customer_ids(target.partition("?")[2])
        except ValidationError as exc:
            return error_response(400, str(exc), CODE_VALIDATION)
        keys = list(dict.fromkeys(ids))  # duplicates collapse into one entry, the first one's place
        hostile = self.config.hostile
        if hostile == "not_found_404":
            return not_found_response(keys)
        response = remove_customers(campaign, keys, self.clock(), self.stats, len(ids))
        if hostile is not None:
            real = response.body
            assert isinstance(real, bytes)  # remove_customers always answers with bytes
            response = hostile_response(hostile, keys, real)
        return response

    def _phone_delete(self, request: web.Request, name: str, target: str) -> web.Response:
        campaign = self._campaign(name, PHONE, request.method, "DELETE")
        if not isinstance(campaign, Campaign):
            return campaign
        try:
            numbers, additional = phone_query(target.partition("?")[2])
        except ValidationError as exc:
            return error_response(400, str(exc), CODE_VALIDATION)
        hostile = self.config.hostile
        keys = list(dict.fromkeys(numbers))
        if hostile == "not_found_404":
            return phone_hostile(hostile, keys, b"")
        answer, counts = remove_numbers(campaign, numbers, additional, self.clock())
        self.stats.answered_numbers(len(numbers), counts)
        if hostile is not None:
            return phone_hostile(hostile, keys, orjson.dumps(answer))
        return json_response(answer)

    def _throttled(self, config: SandboxConfig, wait: float) -> web.Response:
        # Rounded up, so a client that waits as told finds a token.
        if config.retry_after_http_date:
            retry_after = formatdate(math.ceil(self.wall() + wait), usegmt=True)
        else:
            retry_after = str(max(1, math.ceil(wait)))
        return error_response(
            429, "too many requests", CODE_RATE_LIMIT, {"Retry-After": retry_after}
        )


def _not_allowed(method: str, allowed: str) -> web.Response:
    return error_response(405, f"method {method} not allowed", CODE_METHOD, {"Allow": allowed})


def _campaign_not_found(name: str) -> web.Response:
    return error_response(404, f"campaign {name[:40]!r} not found", CODE_NOT_FOUND)
