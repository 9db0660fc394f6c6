"""Injected faults: which request gets which, and changing them while the server runs.

Each draw consumes the random generator only when its fault is switched on, so a seeded run with a
given set of faults makes the same choices every time.
"""

from __future__ import annotations

import enum
import random
from typing import Any

from bulkremove.sandbox.config import SandboxConfig

ERROR_STATUSES = (500, 502, 503)

FAULT_KEYS: dict[str, tuple[type, ...]] = {
    "max_target_length": (int, type(None)),
    "max_body_bytes": (int, type(None)),
    "rate_limit": (int, float, type(None)),
    "rate_burst": (int,),
    "rate_headers": (str, type(None)),
    "retry_after_http_date": (bool,),
    "error_share": (int, float),
    "latency_min_s": (int, float),
    "latency_max_s": (int, float),
    "late_share": (int, float),
    "late_delay_s": (int, float),
    "drop_share": (int, float),
    "html_share": (int, float),
    "deny_permission": (bool,),
    "hostile": (str, type(None)),
}
"""The settings that ``POST /_sandbox/faults`` may change, with the JSON types each accepts."""


class After(enum.Enum):
    """What happens to an answer once the removal is carried out."""

    SEND = "send"
    LATE = "late"
    DROP = "drop"


def fault_changes(body: object) -> dict[str, Any]:
    """Check a ``/_sandbox/faults`` body; raise ValueError naming the first bad key."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    changes: dict[str, Any] = {}
    for key, value in body.items():
        allowed = FAULT_KEYS.get(key)
        if allowed is None:
            raise ValueError(f"unknown key {key!r}; allowed: {', '.join(FAULT_KEYS)}")
        # JSON true/false are ints to Python; only the bool keys take them.
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            raise ValueError(f"{key}={value!r} has the wrong type")
        changes[key] = float(value) if float in allowed and isinstance(value, int) else value
    return changes


def current_faults(config: SandboxConfig) -> dict[str, Any]:
    """The changeable settings' current values."""
    return {key: getattr(config, key) for key in FAULT_KEYS}


def draw_latency(config: SandboxConfig, rng: random.Random) -> float:
    """Extra seconds before answering."""
    if config.latency_max_s <= 0:
        return 0.0
    return rng.uniform(config.latency_min_s, config.latency_max_s)


def draw_error(config: SandboxConfig, rng: random.Random) -> int | None:
    """A 5xx status to answer instead of carrying out the request, or None."""
    if config.error_share > 0 and rng.random() < config.error_share:
        return rng.choice(ERROR_STATUSES)
    return None


def draw_html(config: SandboxConfig, rng: random.Random) -> bool:
    """True to answer 200 with an HTML page instead of carrying out the request."""
    return config.html_share > 0 and rng.random() < config.html_share


def draw_after(config: SandboxConfig, rng: random.Random) -> After:
    """Whether a carried-out request's answer is sent, sent late, or never sent."""
    if config.drop_share > 0 and rng.random() < config.drop_share:
        return After.DROP
    if config.late_share > 0 and rng.random() < config.late_share:
        return After.LATE
    return After.SEND
