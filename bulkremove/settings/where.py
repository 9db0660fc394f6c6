"""The filters of a selection (``--where KEY=VALUE``, the config file's ``[where]`` table).

The keys are the API's own filter names. The same key twice means any of its values; different
keys must all hold. Every value is checked before any request: system statuses against the
documented list, status ids as positive integers, dates as real ``YYYY-MM-DD`` days, and each
``*_from`` no later than its ``*_to``. Pure code.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

SYSTEM_STATUSES = (
    "TO_CALL",
    "IN_PROGRESS",
    "CALL",
    "MY_RECORD",
    "NO_CALL",
    "ABANDONED_AFTER_N_TRIES",
    "CALL_NO_SOONER_THAN",
    "CALL_PROGRESSIVE",
)
"""The documented values of ``system_status``."""
LISTS = ("system_status", "status_id")
"""Keys that may be given several times (any of the values)."""
DATES = ("create_date_from", "create_date_to", "call_date_from", "call_date_to")
KEYS = LISTS + DATES
"""Every filter key, in the order a query names them."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STATUS_ID = re.compile(r"[1-9][0-9]{0,9}")
_SPLIT = re.compile(r"[\s,]+")


class FilterError(ValueError):
    """A filter that cannot be used; the message reads after "must be"."""


class Filters:
    """A checked selection: values per key, each key's values in the order first given."""

    __slots__ = ("_values",)

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            clean = _checked(key, value)
            kept = values.setdefault(key, [])
            if clean in kept:
                continue
            if kept and key in DATES:
                raise FilterError(
                    f"one value for {key}, not both {kept[0]} and {clean} (a date bound is "
                    "given once)"
                )
            kept.append(clean)
        if not values:
            raise FilterError("at least one filter: an empty selection would be the whole campaign")
        for kind in ("create_date", "call_date"):
            low, high = values.get(f"{kind}_from"), values.get(f"{kind}_to")
            if low and high and low[0] > high[0]:
                raise FilterError(
                    f"{kind}_from {low[0]} on or before {kind}_to {high[0]} (nothing would match)"
                )
        self._values = {key: tuple(values[key]) for key in KEYS if key in values}

    def items(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """``(key, values)`` in the order of :data:`KEYS`."""
        return iter(self._values.items())

    def query(self) -> str:
        """The filters as an encoded query (brackets as ``%5B%5D``, as aiohttp sends them)."""
        parts = []
        for key, values in self.items():
            name = f"{key}%5B%5D" if key in LISTS else key
            parts += [f"{name}={value}" for value in values]
        return "&".join(parts)

    def as_dict(self) -> dict[str, list[str] | str]:
        """JSON-ready, as a ``[where]`` table writes them: lists for the repeatable keys."""
        return {key: list(values) if key in LISTS else values[0] for key, values in self.items()}

    def __str__(self) -> str:
        """``KEY=VALUE`` items joined by spaces: what :func:`parse_filters` reads back."""
        return " ".join(f"{key}={value}" for key, values in self.items() for value in values)

    def __repr__(self) -> str:
        return f"Filters({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filters):
            return NotImplemented
        return self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))


def parse_filters(value: Any) -> Filters:
    """Filters from a flag's ``KEY=VALUE`` items, their text (the environment, a journal) or a
    config file's table; raises FilterError (a ValueError) saying what is wrong."""
    if isinstance(value, Filters):
        return value
    if isinstance(value, str):
        value = [item for item in _SPLIT.split(value.strip()) if item]
    if isinstance(value, Mapping):
        return Filters(_table_pairs(value))
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return Filters(_item_pair(item) for item in value)
    raise FilterError("KEY=VALUE items, or a table of keys")


def _item_pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep:
        raise FilterError(f"KEY=VALUE, not {item!r}")
    return key.strip(), value.strip()


def _table_pairs(table: Mapping[Any, Any]) -> Iterator[tuple[str, str]]:
    for key, value in table.items():
        values = value if isinstance(value, list) else [value]
        if not values:
            raise FilterError(f"at least one value for {key}")
        for one in values:
            if isinstance(one, datetime.date) and not isinstance(one, datetime.datetime):
                one = one.isoformat()  # a TOML date written without quotes
            elif isinstance(one, int) and not isinstance(one, bool):
                one = str(one)
            if not isinstance(one, str):
                raise FilterError(f"text values for {key}, not {one!r}")
            yield str(key), one


def _checked(key: str, value: str) -> str:
    if key not in KEYS:
        raise FilterError(f"a key of {', '.join(KEYS)}, not {key!r}")
    if key == "system_status":
        upper = value.upper()
        if upper not in SYSTEM_STATUSES:
            raise FilterError(
                f"a system status ({', '.join(SYSTEM_STATUSES)}) in system_status, not {value!r}"
            )
        return upper
    if key == "status_id":
        if not _STATUS_ID.fullmatch(value):
            raise FilterError(f"a positive integer in status_id, not {value!r}")
        return value
    if not _DATE.fullmatch(value):
        raise FilterError(f"a date YYYY-MM-DD in {key}, not {value!r}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"a real date in {key}, not {value!r}") from None
    return value
