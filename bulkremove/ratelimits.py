"""What a server says of its rate limit in headers, read into one small value (pure).

Read, in this order of trust:

- ``RateLimit-Policy`` (IETF draft): ``10;w=1`` or ``"burst";q=10;w=1``: a quota per window,
  the rate to pace to exactly. The first policy listed is the one followed.
- ``RateLimit`` (draft 7 on: ``limit=10, remaining=3, reset=1``; later drafts: ``"p";r=3;t=1``),
  else ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (earlier drafts), else
  their ``X-RateLimit-*`` forms: requests left and seconds until the quota refills. A reset past
  a billion is a Unix time (GitHub's form), else seconds from now.
- ``Retry-After`` on an answer that is not an error: wait that long before the next request.

The engine paces to a policy's quota per window; without a policy, when none is left
(``remaining`` 0) it pauses every worker until the reset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bulkremove.answers import parse_retry_after

HEADERS = (
    "ratelimit-policy",
    "ratelimit",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
)
"""The header names read, lower case."""

_EPOCH = 1e9  # a reset this large is a Unix time, not a delay
_NUMBER = r"(\d+(?:\.\d+)?)"


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A server's word on its limit; None where it said nothing."""

    rate: float | None = None
    """Requests per second its policy allows (quota / window)."""
    remaining: float | None = None
    """Requests left in the current window."""
    reset: float | None = None
    """Seconds until the quota refills."""
    retry_after: float | None = None
    """Seconds to wait before the next request, from a Retry-After on a good answer."""

    @property
    def exhausted(self) -> bool:
        """True when no request is left before the reset."""
        return self.remaining is not None and self.remaining < 1 and self.reset is not None

    def pause(self) -> float | None:
        """Seconds every worker should wait before the next request, or None.

        A quota used up counts only without a policy: paced to the policy's rate, a token
        bucket's last token goes with every request, and the next one comes in time.
        """
        used_up = self.exhausted and self.rate is None
        waits = [w for w in (self.retry_after, self.reset if used_up else None) if w]
        return max(waits) if waits else None


def _policy_rate(value: str) -> float | None:
    first = value.split(",")[0]
    quota = re.search(r"(?:^|;)\s*q\s*=\s*" + _NUMBER, first) or re.match(r"\s*" + _NUMBER, first)
    window = re.search(r";\s*w\s*=\s*" + _NUMBER, first)
    if quota is None:
        return None
    seconds = float(window.group(1)) if window else 1.0
    return float(quota.group(1)) / seconds if seconds > 0 else None


def _field(value: str, *names: str) -> float | None:
    for name in names:
        found = re.search(r"(?:^|[,;\s])" + name + r"\s*=\s*" + _NUMBER, value)
        if found:
            return float(found.group(1))
    return None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    found = re.match(r"\s*" + _NUMBER, value)
    return float(found.group(1)) if found else None


def read_rate_limits(
    get: Callable[[str], str | None], now: float, *, answered: bool
) -> RateLimits | None:
    """The limits in the headers ``get`` looks up by lower-case name; None when none is there.

    ``now`` is the wall clock (Unix seconds); ``answered`` is True for a good answer, the only
    kind whose Retry-After is read here (an error's is read with the error).
    """
    policy = get("ratelimit-policy")
    rate = _policy_rate(policy) if policy else None
    combined = get("ratelimit")
    if combined:
        remaining = _field(combined, "remaining", "r")
        reset = _field(combined, "reset", "t")
    else:
        remaining = _number(get("ratelimit-remaining"))
        reset = _number(get("ratelimit-reset"))
        if remaining is None and reset is None:
            remaining = _number(get("x-ratelimit-remaining"))
            reset = _number(get("x-ratelimit-reset"))
    if reset is not None and reset > _EPOCH:
        reset = max(0.0, reset - now)
    retry_after = parse_retry_after(get("retry-after"), now) if answered else None
    if rate is None and remaining is None and reset is None and retry_after is None:
        return None
    return RateLimits(rate, remaining, reset, retry_after)


def rate_limits_of(headers: Mapping[str, str], now: float, *, answered: bool) -> RateLimits | None:
    """:func:`read_rate_limits` of a plain mapping (lower-case names), for tests and tools."""
    return read_rate_limits(headers.get, now, answered=answered)
