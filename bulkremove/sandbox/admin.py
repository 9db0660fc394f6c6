"""The admin endpoints under ``/_sandbox/``: no authentication, not counted in the stats.

- ``GET  /_sandbox/stats``                         counters (see :class:`Stats`)
- ``GET  /_sandbox/campaigns/{campaign}/records``  ``{"remaining": n, "ids": [...]}``;
  with ``?detail=1`` ``{"remaining": n, "records": [...]}``, each with its numbers and call
- ``POST /_sandbox/campaigns/{campaign}/records|statuses|churn``, ``GET .../churn``: see
  :mod:`bulkremove.sandbox.changes`
- ``POST /_sandbox/calls``                         ``{"campaign", "ids", "duration_s"}``
- ``GET  /_sandbox/faults``, ``POST /_sandbox/faults``   read or change limits and faults
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import chain
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from bulkremove.sandbox.changes import churn_so_far, put_back, set_statuses, start_churn
from bulkremove.sandbox.detailed import DEFAULT_SYSTEM_STATUS, PHONE, base_record, detail_entry
from bulkremove.sandbox.faults import current_faults, fault_changes
from bulkremove.sandbox.responses import (
    CODE_NOT_FOUND,
    CODE_VALIDATION,
    error_response,
    json_response,
)
from bulkremove.sandbox.state import Campaign

if TYPE_CHECKING:
    from bulkremove.sandbox.app import SandboxApp

ADMIN_ROOT = "/_sandbox"


def add_admin_routes(app: web.Application, sandbox: SandboxApp) -> None:
    """Register the admin endpoints of ``sandbox`` on ``app``."""
    admin = _Admin(sandbox)
    app.router.add_get(ADMIN_ROOT + "/stats", admin.stats)
    app.router.add_get(ADMIN_ROOT + "/campaigns/{campaign}/records", admin.records)
    app.router.add_post(ADMIN_ROOT + "/campaigns/{campaign}/records", admin.put_back)
    app.router.add_post(ADMIN_ROOT + "/campaigns/{campaign}/statuses", admin.set_statuses)
    app.router.add_post(ADMIN_ROOT + "/campaigns/{campaign}/churn", admin.start_churn)
    app.router.add_get(ADMIN_ROOT + "/campaigns/{campaign}/churn", admin.churn)
    app.router.add_post(ADMIN_ROOT + "/calls", admin.calls)
    app.router.add_get(ADMIN_ROOT + "/faults", admin.faults)
    app.router.add_post(ADMIN_ROOT + "/faults", admin.change_faults)


async def _json_body(request: web.Request) -> object:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc


def _bad_request(message: str) -> web.Response:
    return error_response(400, message, CODE_VALIDATION)


def remaining_records(campaign: Campaign) -> dict[str, object]:
    """``remaining``, and ``ids``: the customer ids left, ascending (a phone campaign: its record
    ids in order of addition, and ``phone_numbers``, their numbers)."""
    rows = campaign.rows.by_id.values()
    if campaign.target == PHONE:
        return {
            "remaining": len(campaign),
            "ids": [record.record_id for record in rows],
            "phone_numbers": [record.key for record in rows],
        }
    ids: list[int] = list(campaign.records)
    if rows:
        ids = sorted([*ids, *(record.key for record in rows if isinstance(record.key, int))])
    return {"remaining": len(campaign), "ids": ids}


def detailed_records(campaign: Campaign, now: float) -> dict[str, object]:
    """``remaining``, and ``records``: every record in listing order, with its call."""
    target = campaign.target
    seeded = (
        base_record(cid, campaign.overrides.get(cid, DEFAULT_SYSTEM_STATUS))
        for cid in campaign.records
    )
    return {
        "remaining": len(campaign),
        "records": [
            detail_entry(record, target, campaign.record_in_call(record, now))
            for record in chain(seeded, campaign.rows.by_id.values())
        ],
    }


class _Admin:
    __slots__ = ("_sandbox",)

    def __init__(self, sandbox: SandboxApp) -> None:
        self._sandbox = sandbox

    async def stats(self, request: web.Request) -> web.Response:
        sandbox = self._sandbox
        return json_response(sandbox.stats.snapshot(sandbox.state.remaining()))

    def _campaign(self, request: web.Request) -> Campaign | web.Response:
        name = request.match_info["campaign"]
        campaign = self._sandbox.state.campaigns.get(name)
        if campaign is None:
            return error_response(404, f"campaign {name[:40]!r} not found", CODE_NOT_FOUND)
        return campaign

    async def records(self, request: web.Request) -> web.Response:
        campaign = self._campaign(request)
        if not isinstance(campaign, Campaign):
            return campaign
        if request.query.get("detail") in ("1", "true"):
            return json_response(detailed_records(campaign, self._sandbox.clock()))
        return json_response(remaining_records(campaign))

    async def _change(
        self, request: web.Request, change: Callable[[Campaign, object], dict[str, object]]
    ) -> web.Response:
        campaign = self._campaign(request)
        if not isinstance(campaign, Campaign):
            return campaign
        try:
            return json_response(change(campaign, await _json_body(request)))
        except ValueError as exc:
            return _bad_request(str(exc))

    async def put_back(self, request: web.Request) -> web.Response:
        now = self._sandbox.clock()
        return await self._change(request, lambda campaign, body: put_back(campaign, body, now))

    async def set_statuses(self, request: web.Request) -> web.Response:
        return await self._change(request, set_statuses)

    async def start_churn(self, request: web.Request) -> web.Response:
        return await self._change(request, start_churn)

    async def churn(self, request: web.Request) -> web.Response:
        campaign = self._campaign(request)
        if not isinstance(campaign, Campaign):
            return campaign
        return json_response(churn_so_far(campaign))

    async def calls(self, request: web.Request) -> web.Response:
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            name = body.get("campaign")
            ids = body.get("ids")
            duration = body.get("duration_s")
            if not isinstance(ids, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids
            ):
                raise ValueError("ids must be a list of integers")
            if duration is not None and (
                isinstance(duration, bool)
                or not isinstance(duration, int | float)
                or not duration >= 0
            ):
                raise ValueError("duration_s must be a non-negative number or null")
        except ValueError as exc:
            return _bad_request(str(exc))
        campaign = self._sandbox.state.campaigns.get(name) if isinstance(name, str) else None
        if campaign is None:
            return error_response(404, f"campaign {name!r} not found", CODE_NOT_FOUND)
        now = self._sandbox.clock()
        end = math.inf if duration is None else now + duration
        present = campaign.put_in_call(ids, end)
        return json_response(
            {"campaign": campaign.name, "ids": len(ids), "present": present, "duration_s": duration}
        )

    async def faults(self, request: web.Request) -> web.Response:
        return json_response(current_faults(self._sandbox.config))

    async def change_faults(self, request: web.Request) -> web.Response:
        try:
            config = self._sandbox.reconfigure(**fault_changes(await _json_body(request)))
        except ValueError as exc:
            return _bad_request(str(exc))
        return json_response(current_faults(config))
