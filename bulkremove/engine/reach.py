"""Whether the server can be reached: connections refused in a row, run-wide.

A refused connection sent nothing, so retrying it is safe, but a server that is down refuses
every try of every batch: each batch would use up its tries and fail, one after another, for
as long as the input lasts. Once connections have been refused for ``DOWN_AFTER_S`` seconds
(and at least ``max_attempts`` times) with no answer of any kind between them, the run ends
(:class:`~bulkremove.errors.ServerDownError`, exit 3); the records not answered stay pending for
a resume.
"""

from __future__ import annotations

from bulkremove.errors import CannotConnectError, ServerDownError

DOWN_AFTER_S = 10.0
"""Seconds of nothing but refused connections after which the server is taken for down."""


class Reach:
    """Counts refused connections since the last answer; pure, time given by the caller."""

    def __init__(self, min_tries: int, down_after: float = DOWN_AFTER_S) -> None:
        self._min_tries = min_tries
        self._down_after = down_after
        self._since: float | None = None
        self._tries = 0

    def answered(self) -> None:
        """The server answered (anything at all): it is up."""
        self._since, self._tries = None, 0

    def refused(self, now: float, error: CannotConnectError) -> ServerDownError | None:
        """One more refused connection; the error that ends the run once the server is down."""
        if self._since is None:
            self._since = now
        self._tries += 1
        down_for = now - self._since
        if self._tries < self._min_tries or down_for < self._down_after:
            return None
        return ServerDownError(
            f"{error}: {self._tries} connections in a row refused over {down_for:.0f} s, "
            "with no answer between: the server looks down"
        )
