"""Validation of campaign ids and customer ids, before either can reach a URL.

Customer ids are positive integers of at most 18 ASCII digits, so every id fits a signed 64-bit
SQLite INTEGER. Leading zeros are accepted and dropped (``007`` is customer 7): the canonical
decimal form is what is sent and what the journal stores.
"""

from __future__ import annotations

MAX_ID_DIGITS = 18
CAMPAIGN_LENGTH = 5

_ASCII_DIGITS = frozenset(b"0123456789")
_CAMPAIGN_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def parse_customer_id(text: str | bytes) -> int | None:
    """Return the customer id written in ``text`` (already trimmed), or None if it is not one."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if not raw or len(raw) > MAX_ID_DIGITS or not _ASCII_DIGITS.issuperset(raw):
        return None
    value = int(raw)
    return value if value > 0 else None


def customer_id_problem(text: str | bytes) -> str:
    """Say why ``text`` is not a customer id (for error messages)."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if not raw:
        return "empty customer id"
    if not _ASCII_DIGITS.issuperset(raw):
        return "customer id must be ASCII digits only"
    if len(raw) > MAX_ID_DIGITS:
        return f"customer id longer than {MAX_ID_DIGITS} digits"
    return "customer id must be a positive integer"


def is_campaign_id(text: str) -> bool:
    """True when ``text`` is exactly five characters of ``[0-9A-Za-z]``."""
    return len(text) == CAMPAIGN_LENGTH and _CAMPAIGN_CHARS.issuperset(text)


def check_campaign_id(text: str) -> str:
    """Return ``text`` if it is a campaign id, else raise ValueError saying what is allowed."""
    if not is_campaign_id(text):
        raise ValueError(
            f"campaign id {text!r} is not exactly {CAMPAIGN_LENGTH} characters of [0-9A-Za-z]"
        )
    return text
