"""How each kind of key is checked against the API: the seam a kind of key plugs into.

A journal's recorded ``target`` names its kind. Each kind says how a listed record shows its
key, how people read a key, and whether the API has a single-record GET for it: customer ids
have one (``GET crm_outbounds/{c}/records/{customer_id}``); a kind without one is checked by
listing its campaign.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bulkremove.errors import JournalError

DEFAULT_TARGET = "customer_id"
"""The target of a journal that records none."""


@dataclass(frozen=True, slots=True)
class KeyChecking:
    """How keys of one kind are checked."""

    target: str
    """The ``target`` setting of the journals it checks, and the listing field of the key."""
    from_listed: Callable[[int | str], int | None]
    """The journal's key of a key as the API lists it, or None when it cannot be one."""
    value: Callable[[int], int | str]
    """A journal key as the API writes it (a customer id; a phone number's digits)."""
    shown: Callable[[int], str]
    """A journal key as people read it (``customer 17``)."""
    single: bool
    """Whether one record can be asked for by its key, instead of listing the campaign."""


def _customer(key: int | str) -> int | None:
    return key if isinstance(key, int) else None


CUSTOMER_ID = KeyChecking(
    target="customer_id",
    from_listed=_customer,
    value=lambda key: key,
    shown=lambda key: f"customer {key}",
    single=True,
)

KINDS: dict[str, KeyChecking] = {CUSTOMER_ID.target: CUSTOMER_ID}
"""Every kind that can be checked, by target."""


def checking_for(settings: Mapping[str, Any], journal: str) -> KeyChecking:
    """The kind of a journal whose recorded settings are ``settings``."""
    target = settings.get("target") or DEFAULT_TARGET
    try:
        return KINDS[target]
    except KeyError:
        raise JournalError(
            f"{journal}: its target {target!r} cannot be verified by this bulkremove"
        ) from None
