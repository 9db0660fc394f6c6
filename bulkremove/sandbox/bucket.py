"""A token bucket: the sandbox's rate limit."""

from __future__ import annotations

import math
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; the bucket starts full."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> float:
        """Take a token: 0.0 if one was there, else the seconds until one will be."""
        now = self._clock()
        tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / self.rate

    def headers(self, form: str) -> dict[str, str]:
        """What the bucket holds, as rate-limit headers of ``form`` (``ietf``, ``x``, ``retry``).

        ``ietf``: the draft's policy (the rate per second) and the limit, what is left and the
        whole seconds until the bucket is full. ``x``: no policy; what is left and the seconds
        until the next token, to the millisecond. ``retry``: a ``Retry-After`` in whole seconds
        (rounded up) when no whole token is left, else nothing.
        """
        tokens = min(self.burst, self._tokens + (self._clock() - self._last) * self.rate)
        if form == "retry":
            wait = (1.0 - tokens) / self.rate
            return {"Retry-After": str(max(1, math.ceil(wait)))} if wait > 0 else {}
        left = str(math.floor(tokens))
        if form == "ietf":
            return {
                "RateLimit-Policy": f"{self.rate:g};w=1",
                "RateLimit-Limit": f"{self.rate:g}",
                "RateLimit-Remaining": left,
                "RateLimit-Reset": str(math.ceil((self.burst - tokens) / self.rate)),
            }
        return {
            "X-RateLimit-Limit": f"{self.rate:g}",
            "X-RateLimit-Remaining": left,
            "X-RateLimit-Reset": f"{max(0.0, 1.0 - tokens) / self.rate:.3f}",
        }
