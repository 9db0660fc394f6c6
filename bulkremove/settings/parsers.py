"""The checks of setting values: each turns a raw value (TOML, env text, flag) into a clean one.

A rule knows the Python type its flag converts to, what it allows (said in refusals) and, for
a choice, the allowed words (offered by the flag).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yarl


class Reason(ValueError):
    """A refusal that says more than the rule's usual 'must be ...'."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A value check: ``rule(raw)`` is the clean value, or raises ValueError or TypeError."""

    kind: type
    """What a command-line flag converts its text to before the check (bool: an on/off flag;
    list: a repeatable flag whose texts are checked together)."""
    allowed: str
    """What the check accepts, in words: a refusal says 'must be <allowed>'."""
    check: Callable[[Any], Any]
    choices: tuple[str, ...] = ()

    def __call__(self, value: Any) -> Any:
        return self.check(value)


def int_in(low: int, high: int) -> Rule:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            value = int(value.strip())
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return Rule(int, f"an integer from {low} to {high}", parse)


def float_in(low: float, high: float, *, open_low: bool = False) -> Rule:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError
        number = float(value.strip() if isinstance(value, str) else value)
        if math.isnan(number) or number > high or number < low or (open_low and number == low):
            raise ValueError
        return number

    bound = ">" if open_low else ">="
    return Rule(float, f"a number {bound} {low:g} and <= {high:g}", parse)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    raise ValueError


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _username(value: Any) -> str:
    text = _text(value)
    # HTTP Basic auth joins user and password with ':', so the user name cannot hold one.
    if ":" in text:
        raise Reason("a user name without ':' (HTTP Basic auth cannot carry it)")
    return text


def choice(*allowed: str) -> Rule:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            raise ValueError
        return value.strip().lower()

    return Rule(str, "one of " + ", ".join(allowed), parse, choices=allowed)


def _base_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    try:
        url = yarl.URL(value.strip())
    except (ValueError, TypeError):
        raise ValueError from None
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise ValueError
    if url.user is not None or url.password is not None:
        raise Reason("a URL without user info: set username and password instead")
    return str(url).rstrip("/")


def _campaign(value: Any) -> str:
    from bulkremove.ids import is_campaign_id

    if not isinstance(value, str) or not is_campaign_id(value.strip()):
        raise ValueError
    return value.strip()


def _where(value: Any) -> Any:
    from bulkremove.settings.where import FilterError, parse_filters

    try:
        return parse_filters(value)
    except FilterError as exc:
        raise Reason(str(exc)) from None


BOOL = Rule(bool, "true or false", _bool)
TEXT = Rule(str, "a string", _text)
USERNAME = Rule(str, "a string without ':'", _username)
BASE_URL = Rule(
    str,
    "an http(s) URL of the API root without user info, e.g. https://acme.thulium.com/api",
    _base_url,
)
CAMPAIGN = Rule(str, "exactly five characters of [0-9A-Za-z]", _campaign)
WHERE = Rule(
    list,
    "KEY=VALUE filters of system_status, status_id, create_date_from, create_date_to, "
    "call_date_from, call_date_to",
    _where,
)
"""A selection's filters: a flag given again adds a filter (``kind`` list)."""
