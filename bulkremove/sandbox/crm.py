"""The CRM batch delete: ``DELETE batch/crm_outbounds/{campaign}/records?customer_id[]=…``.

The query is parsed here by hand and answers are built by comprehension where they are uniform:
this is the hot path of every benchmark. Campaigns holding detailed records (seeded from a file or
put back) take a slower path that looks each customer up among them first.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

import orjson
from aiohttp import web

from bulkremove.sandbox.responses import (
    ENTRY_IN_CALL,
    ENTRY_NOT_EXIST,
    JSON,
    RECORD_ID_OFFSET,
    ValidationError,
)
from bulkremove.sandbox.state import Campaign, Outcome
from bulkremove.sandbox.stats import Stats

QUERY_KEYS = frozenset({"customer_id[]", "customer_id%5B%5D", "customer_id%5b%5d"})
_FAST_KEYS = ("customer_id%5B%5D=", "customer_id[]=")
_MAX_ID_CHARS = 19  # no seeded id is longer, so a longer one cannot exist
_REMOVED = Outcome.REMOVED
_NOT_EXIST = Outcome.NOT_EXIST


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


def _removed(rid: int) -> dict[str, object]:
    return {"http_status": 200, "record_id": rid, "status": "REMOVED"}


def remove_customers(
    campaign: Campaign, keys: list[str], now: float, stats: Stats, requested: int
) -> web.Response:
    """Remove the distinct customer ids ``keys`` (``requested`` asked, duplicates included)."""
    if max(map(len, keys)) <= _MAX_ID_CHARS:
        cids = list(map(int, keys))
    else:
        cids = [_customer_id(key) for key in keys]
    if campaign.rows:
        return _remove_detailed(campaign, keys, cids, now, stats, requested)
    outcomes = campaign.remove_many(cids, now)
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
                answer[key] = _removed(cid + RECORD_ID_OFFSET)
            elif outcome is _NOT_EXIST:
                answer[key] = ENTRY_NOT_EXIST
            else:
                answer[key] = ENTRY_IN_CALL
    stats.answered(requested, removed, not_exist, in_call)
    return _per_id_response(answer, removed, not_exist, in_call)


def _remove_detailed(
    campaign: Campaign, keys: list[str], cids: list[int], now: float, stats: Stats, requested: int
) -> web.Response:
    answer: dict[str, object] = {}
    counts = dict.fromkeys(Outcome, 0)
    for key, (outcome, rid) in zip(keys, campaign.remove_customers(cids, now), strict=True):
        counts[outcome] += 1
        if outcome is _REMOVED:
            answer[key] = _removed(rid)
        elif outcome is _NOT_EXIST:
            answer[key] = ENTRY_NOT_EXIST
        else:
            answer[key] = ENTRY_IN_CALL
    removed, not_exist = counts[_REMOVED], counts[_NOT_EXIST]
    in_call = counts[Outcome.CALL_IN_PROGRESS]
    stats.answered(requested, removed, not_exist, in_call)
    return _per_id_response(answer, removed, not_exist, in_call)


def _per_id_response(
    answer: dict[str, object], removed: int, not_exist: int, in_call: int
) -> web.Response:
    mixed = (removed > 0) + (not_exist > 0) + (in_call > 0) > 1
    return web.Response(body=orjson.dumps(answer), status=207 if mixed else 200, content_type=JSON)
