"""The sandbox's settings: campaigns to seed, credentials, limits and injected faults.

Everything a user can set on the command line is a field of :class:`SandboxConfig`. The limits and
faults can also be changed while the server runs (``POST /_sandbox/faults``); such a change makes a
new config with :func:`dataclasses.replace`, so every value is validated in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bulkremove.ids import check_campaign_id

if TYPE_CHECKING:
    from bulkremove.sandbox.detailed import Record

DEFAULT_MAX_TARGET_LENGTH = 8174
"""nginx's 8 KiB request-line buffer less ``DELETE `` and `` HTTP/1.1\\r\\n``."""

PARSER_LINE_LIMIT = 1 << 20
"""What the HTTP parser itself accepts; the configured limit must stay below it to be answered."""

MAX_SEED_ID = (1 << 63) - 1
"""Seeded ids fit a signed 64-bit integer, like the ids the client may send."""

HOSTILE_MODES = (
    "huge",
    "nested",
    "truncated",
    "not_object",
    "html",
    "unasked",
    "lie",
    "bad_record_id",
    "bad_status",
    "odd_keys",
    "gateway",
    "server_error",
    "empty",
    "duplicates",
    "deep",
    "not_found_404",
)
"""Answers a broken or lying server might give (see :mod:`bulkremove.sandbox.hostile`)."""


@dataclass(frozen=True, slots=True)
class RangeSeed:
    """A campaign holding every customer id from ``first`` to ``last`` inclusive."""

    campaign: str
    first: int
    last: int

    def __post_init__(self) -> None:
        check_campaign_id(self.campaign)
        if not 0 < self.first <= self.last <= MAX_SEED_ID:
            raise ValueError(
                f"campaign {self.campaign}: range {self.first}-{self.last} must satisfy "
                f"1 <= first <= last < 2**63"
            )


@dataclass(frozen=True, slots=True)
class IdsSeed:
    """A campaign holding exactly ``ids`` (read from a file, or given directly)."""

    campaign: str
    ids: frozenset[int]

    def __post_init__(self) -> None:
        check_campaign_id(self.campaign)
        for cid in self.ids:
            if not 0 < cid <= MAX_SEED_ID:
                raise ValueError(f"campaign {self.campaign}: id {cid} is not in 1..2**63-1")


@dataclass(frozen=True, slots=True)
class RecordsSeed:
    """A campaign of detailed records (see :mod:`bulkremove.sandbox.recordfile`).

    ``target`` is ``customer_id`` or ``phone_number``; the records' calls count from server start.
    """

    campaign: str
    target: str
    records: tuple[Record, ...]


CampaignSeed = RangeSeed | IdsSeed | RecordsSeed

DEFAULT_CAMPAIGNS: tuple[CampaignSeed, ...] = (RangeSeed("00001", 1, 100_000),)


def read_ids_file(path: Path) -> frozenset[int]:
    """Customer ids of a file, one per line; blank lines and ``#`` comments are skipped."""
    ids: set[int] = set()
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            text = raw.split(b"#", 1)[0].strip()
            if not text:
                continue
            if not text.isdigit() or len(text) > 19 or not 0 < int(text) <= MAX_SEED_ID:
                raise ValueError(f"{path}:{number}: {text[:40]!r} is not a customer id")
            ids.add(int(text))
    return frozenset(ids)


def parse_campaign_spec(spec: str) -> CampaignSeed:
    """``00001=1-100000`` (a range), ``00001=42`` (one id) or ``00002=@ids.txt`` (a file)."""
    campaign, sep, source = spec.partition("=")
    if not sep or not source:
        raise ValueError(f"campaign spec {spec!r} is not CAMPAIGN=FIRST-LAST or CAMPAIGN=@FILE")
    campaign = check_campaign_id(campaign.strip())
    source = source.strip()
    if source.startswith("@"):
        path = Path(source[1:])
        try:
            return IdsSeed(campaign, read_ids_file(path))
        except OSError as exc:
            raise ValueError(f"campaign {campaign}: cannot read {path}: {exc.strerror}") from exc
    first, dash, last = source.partition("-")
    if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
        raise ValueError(f"campaign spec {spec!r}: range must be FIRST-LAST in digits")
    low = int(first)
    return RangeSeed(campaign, low, int(last) if dash else low)


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}={value} must be between 0 and 1")


def _check_seconds(name: str, value: float, *, infinite: bool = False) -> None:
    if math.isnan(value) or value < 0 or (math.isinf(value) and not infinite):
        raise ValueError(f"{name}={value} must be a non-negative number of seconds")


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Settings of one sandbox server. All faults are off by default; the URL limit is on."""

    host: str = "127.0.0.1"
    port: int = 8080
    username: str = "api_user"
    password: str = "api_pass"
    campaigns: tuple[CampaignSeed, ...] = DEFAULT_CAMPAIGNS
    # Records in a call from server start, for a uniform random duration (inf: never ends).
    call_share: float = 0.0
    call_min_s: float = 5.0
    call_max_s: float = 60.0
    # Limits.
    max_target_length: int | None = DEFAULT_MAX_TARGET_LENGTH
    rate_limit: float | None = None
    rate_burst: int = 1
    rate_headers: str | None = None
    """Rate-limit headers on every answer while rate-limited: ``ietf``, ``x``, ``retry``
    (Retry-After on a 200 or a 5xx once the bucket is empty) or None."""
    retry_after_http_date: bool = False
    # The longest body an add takes before 413 (None: aiohttp's own 1 MiB); agents an added
    # record may name (None: any).
    max_body_bytes: int | None = None
    agents: tuple[str, ...] | None = None
    # Faults.
    error_share: float = 0.0
    latency_min_s: float = 0.0
    latency_max_s: float = 0.0
    late_share: float = 0.0
    late_delay_s: float = 5.0
    drop_share: float = 0.0
    html_share: float = 0.0
    deny_permission: bool = False
    hostile: str | None = None
    seed: int | None = None
    # TLS: a PEM certificate chain, and its key (None: the key is in the chain file).
    tls_cert: str | None = None
    tls_key: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port={self.port} must be 0..65535")
        if not self.campaigns:
            raise ValueError("at least one campaign is needed")
        names = [seed.campaign for seed in self.campaigns]
        if len(set(names)) != len(names):
            raise ValueError(f"campaigns={names} name a campaign twice")
        for name in ("call_share", "error_share", "late_share", "drop_share", "html_share"):
            _check_share(name, getattr(self, name))
        _check_seconds("call_min_s", self.call_min_s, infinite=True)
        _check_seconds("call_max_s", self.call_max_s, infinite=True)
        if self.call_min_s > self.call_max_s:
            raise ValueError(f"call_min_s={self.call_min_s} exceeds call_max_s={self.call_max_s}")
        _check_seconds("latency_min_s", self.latency_min_s)
        _check_seconds("latency_max_s", self.latency_max_s)
        if self.latency_min_s > self.latency_max_s:
            raise ValueError(
                f"latency_min_s={self.latency_min_s} exceeds latency_max_s={self.latency_max_s}"
            )
        _check_seconds("late_delay_s", self.late_delay_s)
        limit = self.max_target_length
        if limit is not None and not 0 < limit < PARSER_LINE_LIMIT:
            raise ValueError(f"max_target_length={limit} must be 1..{PARSER_LINE_LIMIT - 1}")
        if self.max_body_bytes is not None and self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes={self.max_body_bytes} must be at least 1")
        rate = self.rate_limit
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate_limit={rate} must be a positive number of requests/s")
        if self.rate_headers not in (None, "ietf", "x", "retry"):
            raise ValueError(f"rate_headers={self.rate_headers!r} must be ietf, x, retry or none")
        if self.rate_burst < 1:
            raise ValueError(f"rate_burst={self.rate_burst} must be at least 1")
        if self.hostile is not None and self.hostile not in HOSTILE_MODES:
            raise ValueError(f"hostile={self.hostile!r} must be one of {', '.join(HOSTILE_MODES)}")
        if self.tls_key is not None and self.tls_cert is None:
            raise ValueError("tls_key needs tls_cert")
