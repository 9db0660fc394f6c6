"""What an add answered, per record: ``restored``, ``already_present`` or ``failed``. Pure code.

The batch add maps each customer id to ``{"http_status": 201, "record_id": …, "status":
"ADDED"}``, ``ALREADY_EXISTS`` (with the record id the campaign has) or ``FAILED``; a 400 for the
whole body fails each of its records. The single add (phone campaigns) answers 2xx with
``{"record_id": "231"}``, 409 for a number the campaign holds, 400 for a record it refuses.
An ALREADY_EXISTS for a record tried before, whose answer was lost, is most likely that try's
own addition: the detail says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from bulkremove.answers import error_message
from bulkremove.errors import BadAnswerError
from bulkremove.journal.restores import RestoreOutcome

LOST = "added by an earlier try whose answer was lost, most likely"


class Todo(NamedTuple):
    """One record to add back: its old record id, key, add entry (encoded), and whether a try
    was sent before (whose answer never came back)."""

    record_id: int
    key: int
    entry: bytes
    tried: bool


def batch_outcomes(
    status: int, body: bytes, sent: Sequence[Todo], retried: bool
) -> list[RestoreOutcome]:
    """Each of ``sent``'s outcome from a batch add's answer (``status``, ``body``);
    BadAnswerError for a 2xx body that is not an object. ``retried``: this request was tried
    more than once."""
    if not 200 <= status < 300:
        said = error_message(status, body)
        return [RestoreOutcome(todo.record_id, "failed", None, said) for todo in sent]
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadAnswerError(f"the add's answer is not JSON: {exc}", status=status) from None
    if not isinstance(answer, dict):
        raise BadAnswerError(f"the add's answer is not an object: {body[:80]!r}", status=status)
    outcomes = []
    for todo in sent:
        entry = answer.get(str(todo.key))
        outcomes.append(_entry_outcome(todo, entry, retried))
    return outcomes


def _entry_outcome(todo: Todo, entry: Any, retried: bool) -> RestoreOutcome:
    if not isinstance(entry, dict):
        return RestoreOutcome(todo.record_id, "failed", None, "the answer says nothing of it")
    rid = _record_id(entry.get("record_id"))
    said = entry.get("status")
    if said == "ADDED":
        return RestoreOutcome(todo.record_id, "restored", rid, None)
    if said == "ALREADY_EXISTS":
        return present(todo, rid, retried)
    return RestoreOutcome(todo.record_id, "failed", None, orjson.dumps(entry).decode())


def single_outcome(status: int, body: bytes, todo: Todo, retried: bool) -> RestoreOutcome:
    """``todo``'s outcome from a single add's answer."""
    if status == 409:
        return present(todo, None, retried, error_message(status, body))
    if not 200 <= status < 300:
        return RestoreOutcome(todo.record_id, "failed", None, error_message(status, body))
    try:
        answer = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        answer = None
    rid = _record_id(answer.get("record_id")) if isinstance(answer, dict) else None
    return RestoreOutcome(todo.record_id, "restored", rid, None)


def present(
    todo: Todo, rid: int | None, retried: bool, said: str = "ALREADY_EXISTS"
) -> RestoreOutcome:
    """Already in the campaign: put back meanwhile, or by a try whose answer was lost."""
    detail = f"{said}; {LOST}" if todo.tried or retried else said
    return RestoreOutcome(todo.record_id, "already_present", rid, detail)


def _record_id(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
