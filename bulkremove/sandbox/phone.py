"""The phone-number batch delete: ``DELETE batch/outbounds/{campaign}/records?phone_number[]=…``.

A number may be carried by several records (and, with ``search_in_additional_numbers=true``, be an
extra number of others): every one found is removed unless it is in a call, so each number asked
answers a list, one entry per record, in order of addition.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from bulkremove.sandbox.recordfile import is_phone_number
from bulkremove.sandbox.responses import ENTRY_NOT_EXIST, ValidationError
from bulkremove.sandbox.state import Campaign, Outcome

NUMBER_KEY = "phone_number[]"
ADDITIONAL_KEY = "search_in_additional_numbers"
FLAGS = {"true": True, "false": False}


def phone_query(query: str) -> tuple[list[str], bool]:
    """The numbers asked, in order, and whether additional numbers are searched too."""
    numbers: list[str] = []
    additional = False
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        name = unquote_plus(key)
        if name == NUMBER_KEY:
            number = unquote_plus(value)
            if not is_phone_number(number):
                raise ValidationError(
                    f"{NUMBER_KEY} {number[:40]!r} is not a phone number (ASCII digits only)"
                )
            numbers.append(number)
        elif name == ADDITIONAL_KEY:
            flag = unquote_plus(value)
            if flag not in FLAGS:
                raise ValidationError(f"{ADDITIONAL_KEY} {flag[:40]!r} must be true or false")
            additional = FLAGS[flag]
        # other parameters are ignored, as PHP does
    if not numbers:
        raise ValidationError(f"{NUMBER_KEY} is required")
    return numbers, additional


def remove_numbers(
    campaign: Campaign, numbers: list[str], additional: bool, now: float
) -> tuple[dict[str, list[dict[str, object]]], dict[Outcome, int]]:
    """Remove the records of each distinct number; the answer and how many entries of each."""
    answer: dict[str, list[dict[str, object]]] = {}
    counts = dict.fromkeys(Outcome, 0)
    rows = campaign.rows
    for number in dict.fromkeys(numbers):
        found = rows.with_number(number, additional)
        if not found:
            answer[number] = [ENTRY_NOT_EXIST]
            counts[Outcome.NOT_EXIST] += 1
            continue
        entries: list[dict[str, object]] = []
        for record in found:
            rid = record.record_id
            if campaign.record_in_call(record, now):
                entries.append({"http_status": 409, "record_id": rid, "status": "CALL_IN_PROGRESS"})
                counts[Outcome.CALL_IN_PROGRESS] += 1
            else:
                rows.remove(rid)
                entries.append({"http_status": 200, "record_id": rid, "status": "REMOVED"})
                counts[Outcome.REMOVED] += 1
        answer[number] = entries
    return answer, counts
