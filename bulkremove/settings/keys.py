"""The table of setting keys: the fields of :class:`Settings`, one row each.

A row gives the key's default, its check, its section, its help text and flag metavar, and
whether it is a secret. From the table come the dataclass defaults (the rows are the fields),
the ``run`` command's flags (the secret's flag only refuses, with a reason), the
``BULKREMOVE_<KEY>`` environment names, and the check that ``config.example.toml`` lists every
key with its default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bulkremove.settings.parsers import (
    BASE_URL,
    BOOL,
    CAMPAIGN,
    TEXT,
    USERNAME,
    WHERE,
    Rule,
    choice,
    float_in,
    int_in,
)

if TYPE_CHECKING:
    from bulkremove.settings.where import Filters

ENV_PREFIX = "BULKREMOVE_"
CONFIG_ENV = "BULKREMOVE_CONFIG"

# Sections, in the order of config.example.toml and of ``run --help``.
API = "the API"
SENDING = "sending"
RETRIES = "retries"
SAFETY = "safety and monitoring"
TLS = "TLS"
LOCAL = "journal, input and logs"
SECTIONS = (API, SENDING, RETRIES, SAFETY, TLS, LOCAL)

_ROW = "bulkremove.key"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Key:
    """One row of the table."""

    name: str
    default: Any
    rule: Rule
    section: str
    help: str
    metavar: str | None = None
    secret: bool = False
    """Refused as a flag, never shown in refusals, left out of :meth:`Settings.public`."""
    options: tuple[str, ...] = ()
    """The flag's option strings; ``--<key-with-dashes>`` unless the row names others."""

    @property
    def env(self) -> str:
        """The environment variable that sets this key."""
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        """The flag's long form, as sources name it (``flag --rate``)."""
        return self.options[-1]


def key(
    default: T,
    rule: Rule,
    section: str,
    help: str,
    *,
    metavar: str | None = None,
    secret: bool = False,
    options: tuple[str, ...] = (),
) -> T:
    """A field of :class:`Settings` carrying its row of the table."""
    row = Key("", default, rule, section, help, metavar, secret, options)
    return field(default=default, repr=not secret, metadata={_ROW: row})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of a run. Build it with :func:`load_settings`, or directly in library code."""

    base_url: str | None = key(
        None, BASE_URL, API, "API root, e.g. https://acme.thulium.com/api", metavar="URL"
    )
    username: str = key(
        "", USERNAME, API, "API user (the password is never a flag)", metavar="USER"
    )
    password: str = key("", TEXT, API, "password of the API user", secret=True)
    password_file: str | None = key(
        None, TEXT, API, "file whose first line is the password", metavar="PATH"
    )
    campaign: str | None = key(
        None, CAMPAIGN, API, "campaign id for plain-text input, e.g. 00001", metavar="ID"
    )
    where: Filters | None = key(  # noqa: RUF009 - a field, as every row; Filters never change
        None,
        WHERE,
        API,
        "remove the records the API lists with these filters instead of an input file; "
        "repeatable: one key twice means any of its values, different keys must all hold "
        "(e.g. system_status=NO_CALL)",
        metavar="KEY=VALUE",
    )
    max_listing_passes: int = key(
        5,
        int_in(2, 100),
        API,
        "passes over a --where selection until two agree; then the run is refused",
        metavar="N",
    )
    target: str = key(
        "customer_id",
        choice("customer_id", "phone_number"),
        API,
        "what the input's keys are: customer_id (CRM campaigns) or phone_number",
    )
    search_in_additional_numbers: bool = key(
        False,
        BOOL,
        API,
        "with target phone_number: also remove records holding the number as an additional one",
    )
    concurrency: int = key(8, int_in(1, 1024), SENDING, "requests in flight at once", metavar="N")
    rate: float = key(
        10.0,
        float_in(0.0, 1e6, open_low=True),
        SENDING,
        "requests per second, a ceiling",
        metavar="PER_SECOND",
    )
    rate_burst: int = key(
        2, int_in(1, 1000), SENDING, "requests that may start at once after idling", metavar="N"
    )
    max_url_length: int = key(
        8000,
        int_in(64, 1_000_000),
        SENDING,
        "byte budget of path+query as sent",
        metavar="BYTES",
    )
    query_brackets: str = key(
        "encoded",
        choice("raw", "encoded"),
        SENDING,
        "how the [] of customer_id[] are sent: raw (4 bytes fewer per id) or encoded (%5B%5D)",
    )
    max_ids_per_request: int = key(
        500, int_in(1, 100_000), SENDING, "most ids in one request", metavar="N"
    )
    request_timeout: float = key(
        30.0,
        float_in(0.0, 3600.0, open_low=True),
        SENDING,
        "seconds for a whole request",
        metavar="SECONDS",
    )
    connect_timeout: float = key(
        10.0,
        float_in(0.0, 3600.0, open_low=True),
        SENDING,
        "seconds to connect",
        metavar="SECONDS",
    )
    call_retry_timeout: float = key(
        900.0,
        float_in(0.0, 7 * 86400.0),
        RETRIES,
        "seconds to keep retrying a record in a call",
        metavar="SECONDS",
    )
    call_retry_initial: float = key(
        5.0,
        float_in(0.0, 3600.0, open_low=True),
        RETRIES,
        "first delay for a record in a call",
        metavar="SECONDS",
    )
    call_retry_max: float = key(
        60.0,
        float_in(0.0, 86400.0, open_low=True),
        RETRIES,
        "longest delay for a record in a call",
        metavar="SECONDS",
    )
    max_attempts: int = key(
        8, int_in(1, 1000), RETRIES, "tries per batch for transient failures", metavar="N"
    )
    retry_initial: float = key(
        0.5,
        float_in(0.0, 3600.0, open_low=True),
        RETRIES,
        "first delay before retrying a failed batch",
        metavar="SECONDS",
    )
    retry_max: float = key(
        30.0,
        float_in(0.0, 86400.0, open_low=True),
        RETRIES,
        "longest delay before retrying a failed batch",
        metavar="SECONDS",
    )
    batch_retry_timeout: float = key(
        600.0,
        float_in(0.0, 7 * 86400.0, open_low=True),
        RETRIES,
        "seconds from a batch's first try within which its retries must end",
        metavar="SECONDS",
    )
    max_retry_after: float = key(
        300.0,
        float_in(0.0, 86400.0),
        RETRIES,
        "longest Retry-After honoured; a larger one is cut to this",
        metavar="SECONDS",
    )
    max_body_bytes: int = key(
        4 * 1024 * 1024,
        int_in(1024, 1024**3),
        SENDING,
        "largest answer body accepted",
        metavar="BYTES",
    )
    verify_tls: bool = key(True, BOOL, TLS, "verify the server's certificate")
    ca_bundle: str | None = key(
        None, TEXT, TLS, "extra CA certificates (PEM) to trust", metavar="PATH"
    )
    journal_dir: str = key(
        "bulkremove-runs", TEXT, LOCAL, "folder for journals without --journal", metavar="DIR"
    )
    durability: str = key(
        "normal",
        choice("normal", "full"),
        LOCAL,
        "normal: the journal survives a crash or SIGKILL; full: also a power loss",
    )
    skip_invalid: bool = key(False, BOOL, LOCAL, "go on past invalid input lines, counting them")
    allow_empty: bool = key(
        False, BOOL, LOCAL, "an input with no ids is a success (exit 0), not exit 6"
    )
    log_format: str = key("console", choice("console", "json"), LOCAL, "log line format")
    log_level: str = key(
        "info", choice("debug", "info", "warning", "error"), LOCAL, "least severe level shown"
    )
    adaptive: bool = key(
        True, BOOL, RETRIES, "lower the rate on 429, 503 and time-outs, raise it when healthy"
    )
    min_rate: float = key(
        0.5,
        float_in(0.0, 1e6, open_low=True),
        RETRIES,
        "the adaptive rate never goes below this",
        metavar="PER_SECOND",
    )
    grace_period: float = key(
        10.0,
        float_in(0.0, 3600.0),
        RETRIES,
        "seconds to wait for answers in flight after SIGINT or SIGTERM",
        metavar="SECONDS",
    )
    max_delete: int | None = key(
        None,
        int_in(0, 10**12),
        SAFETY,
        "refuse a run that would send more than N ids (nothing is sent)",
        metavar="N",
    )
    assume_yes: bool = key(
        False,
        BOOL,
        SAFETY,
        "do not ask before sending (needed without a terminal; config: assume_yes)",
        options=("-y", "--yes"),
    )
    verify: bool = key(
        False,
        BOOL,
        SAFETY,
        "after the run, ask the API whether the journal is true of a sample of verify_sample "
        "records (as bulkremove verify does)",
    )
    verify_sample: int = key(
        1000,
        int_in(1, 10**9),
        SAFETY,
        "records a sampled verification checks (run --verify, verify without --all)",
        metavar="N",
    )
    snapshot: str = key(
        "auto",
        choice("auto", "always", "off"),
        SAFETY,
        "before the first DELETE, keep each record as the API lists it (what restore adds "
        "back): always, off, or auto (when its GETs add at most a quarter to the run's "
        "requests); a --where run always has one",
    )
    progress_interval: float = key(
        10.0,
        float_in(0.0, 86400.0, open_low=True),
        SAFETY,
        "seconds between progress events without a terminal",
        metavar="SECONDS",
    )
    metrics_file: str | None = key(
        None,
        TEXT,
        SAFETY,
        "write Prometheus metrics here (node_exporter textfile collector)",
        metavar="PATH",
    )
    job_name: str | None = key(
        None,
        TEXT,
        SAFETY,
        "the job label on every metrics series (default: the config file's name without .toml,"
        " else bulkremove)",
        metavar="NAME",
    )
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Where each non-default value came from: ``flag --rate``, ``env BULKREMOVE_RATE``, ..."""

    @property
    def durable(self) -> bool:
        """``durability = full``: flush the journal and output files to disk at each write."""
        return self.durability == "full"

    @property
    def job(self) -> str:
        """The metrics' job label: ``job_name``, else ``bulkremove``."""
        return self.job_name or "bulkremove"

    def public(self) -> dict[str, Any]:
        """The effective settings without secrets, for the journal and reports."""
        return {name: getattr(self, name) for name, row in TABLE.items() if not row.secret}


def _rows() -> dict[str, Key]:
    rows = {}
    for item in dataclasses.fields(Settings):
        row = item.metadata.get(_ROW)
        if row is None:
            continue
        options = row.options or ("--" + item.name.replace("_", "-"),)
        rows[item.name] = dataclasses.replace(row, name=item.name, options=options)
    return rows


TABLE: Mapping[str, Key] = _rows()
"""Every key's row, by name, in the order of the fields."""

KEYS = tuple(TABLE)
