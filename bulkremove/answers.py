"""Reading the API's answers: per-record outcomes, error bodies, Retry-After. Pure code.

The client hands raw bytes here; nothing in this module does I/O. Be liberal in what is accepted:
any entry that is not one of the three documented statuses is kept verbatim for the journal.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from bulkremove.errors import BadAnswerError

REMOVED = "REMOVED"
NOT_EXIST = "NOT_EXIST"
CALL_IN_PROGRESS = "CALL_IN_PROGRESS"
MISSING = "MISSING"
"""Status given to an id that was sent but has no entry in the answer."""
MALFORMED = "MALFORMED"
"""Status given to an entry whose ``status`` is not a string."""

_EXCERPT = 500


class Outcome(NamedTuple):
    """What the server said about one customer id of a batch."""

    customer_id: int
    status: str
    """REMOVED, NOT_EXIST, CALL_IN_PROGRESS, MISSING, MALFORMED, or another status verbatim."""
    record_id: int | None
    detail: str | None
    """The raw entry as JSON, kept for anything unexpected; None for ordinary answers."""


def excerpt(body: bytes, limit: int = _EXCERPT) -> str:
    """A printable, bounded piece of a raw body for messages and the journal."""
    text = body[:limit].decode("utf-8", "replace")
    return text + ("…" if len(body) > limit else "")


def parse_outcomes(body: bytes, ids: Sequence[int]) -> list[Outcome]:
    """One outcome per id in ``ids``, in order, from a 200/207 body.

    Raises BadAnswerError when the body is not a JSON object. Entries for ids that were not
    asked for are ignored: they can never mark a record of ours removed.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadAnswerError(f"answer is not JSON: {excerpt(body, 120)!r}", body=body) from exc
    if not isinstance(data, dict):
        raise BadAnswerError(f"answer is not a JSON object: {excerpt(body, 120)!r}", body=body)
    return [_outcome(customer_id, data.get(str(customer_id))) for customer_id in ids]


def _outcome(customer_id: int, entry: Any) -> Outcome:
    if entry is None:
        return Outcome(customer_id, MISSING, None, None)
    if not isinstance(entry, dict):
        return Outcome(customer_id, MALFORMED, None, _raw(entry))
    status = entry.get("status")
    if status == REMOVED:
        record_id = entry.get("record_id")
        if type(record_id) is int and record_id > 0:
            return Outcome(customer_id, REMOVED, record_id, None)
        # Removed by the server's word, but the record id is unusable: keep the entry.
        return Outcome(customer_id, REMOVED, None, _raw(entry))
    if status in (NOT_EXIST, CALL_IN_PROGRESS):
        return Outcome(customer_id, status, None, None)
    if isinstance(status, str):
        return Outcome(customer_id, status, None, _raw(entry))
    return Outcome(customer_id, MALFORMED, None, _raw(entry))


def _raw(entry: Any) -> str:
    try:
        return orjson.dumps(entry).decode()[:_EXCERPT]
    except TypeError:  # pragma: no cover - orjson.loads output always serialises
        return repr(entry)[:_EXCERPT]


def error_message(status: int, body: bytes) -> str:
    """A one-line description of an error answer, using the documented error body if present.

    ``{"request_id": "...", "errors": [{"message": "...", "code": 123}]}`` becomes
    ``HTTP 401: Unauthorized (code 401) [request_id ...]``.
    """
    parts: list[str] = []
    request_id = None
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            for error in errors[:5]:
                if isinstance(error, dict):
                    message = str(error.get("message", "")).strip()[:200]
                    code = error.get("code")
                    parts.append(f"{message} (code {code})" if code is not None else message)
        rid = data.get("request_id")
        request_id = str(rid)[:64] if rid is not None else None
    text = "; ".join(p for p in parts if p)
    if not text and body and data is None:
        text = " ".join(excerpt(body, 120).split())
    line = f"HTTP {status}" + (f": {text}" if text else "")
    if request_id:
        line += f" [request_id {request_id}]"
    return line


def mentions_url_length(body: bytes) -> bool:
    """True when a 400 answer says the URL or request line is too long."""
    lowered = body[:4096].lower()
    return (b"too long" in lowered or b"too large" in lowered or b"length" in lowered) and (
        b"url" in lowered or b"uri" in lowered or b"request line" in lowered
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None.

    ``now`` is the current unix time, injected so tests need no clock. Past dates give 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now)
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds
