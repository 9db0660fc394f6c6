"""What the engine did, for the report, the progress display and the log."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class EngineStats:
    """What the engine did, for the report and the log."""

    requests: int = 0
    batches: int = 0
    by_error: dict[str, int] = field(default_factory=dict)
    rate: float = 0.0
    """The sending rate in force (requests per second)."""
    retries: int = 0
    """Requests tried again after a failure."""
    retry_wait_s: float = 0.0
    """Seconds those retries waited before going (backoff, or the server's Retry-After)."""
    aborted: str | None = None
    committed: dict[str, int] = field(default_factory=dict)
    """Outcomes committed to the journal, by the state they gave (for progress)."""
