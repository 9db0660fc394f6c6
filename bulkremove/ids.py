"""Validation of campaign ids, customer ids and phone numbers, before any can reach a URL.

Customer ids are positive integers of at most 18 ASCII digits, so every id fits a signed 64-bit
SQLite INTEGER. Leading zeros are accepted and dropped (``007`` is customer 7): the canonical
decimal form is what is sent and what the journal stores.

Phone numbers are 1 to 18 ASCII digits where leading zeros count (``0048…`` is not ``48…``). Each
is kept as an int too, its *key*: the digits behind a sentinel ``1`` (``"007"`` is ``1007``), so
that the key gives the exact digits back, equal keys are equal numbers, and the engine, journal
and batching stay int-keyed. A key is written out as the number's digits plus one: the wire's
``phone_number%5B%5D=`` is one byte longer than ``customer_id%5B%5D=``, so a key costs the bytes a
customer id of its length does.
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


def parse_phone_number(text: str | bytes) -> int | None:
    """The key of the phone number written in ``text`` (already trimmed), or None."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if not raw or len(raw) > MAX_ID_DIGITS or not _ASCII_DIGITS.issuperset(raw):
        return None
    return int(b"1" + raw)


def phone_number_problem(text: str | bytes) -> str:
    """Say why ``text`` is not a phone number (for error messages)."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if not raw:
        return "empty phone number"
    if raw.startswith(b"+"):
        return "phone numbers are digits only, as the API stores them; drop the leading +"
    if not _ASCII_DIGITS.issuperset(raw):
        return "phone number must be ASCII digits only (no spaces, dashes or brackets)"
    return f"phone number longer than {MAX_ID_DIGITS} digits"


def phone_number_of(key: int) -> str:
    """The digits of the phone number whose key is ``key``."""
    return str(key)[1:]


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
