"""The run's settings: one object, filled from flags, environment, a TOML file and defaults.

Precedence, highest first: command-line flags, ``BULKREMOVE_<KEY>`` environment variables, the
config file (``--config`` or ``BULKREMOVE_CONFIG``), defaults. Every value remembers where it came
from, so a bad one is refused with the key, its source and what is allowed.

The password is never a flag (it would show in ``ps`` and shell history): it comes from
``BULKREMOVE_PASSWORD``, the config file's ``password``, or ``password_file`` (read only when no
``password`` is set).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yarl

from bulkremove.errors import ConfigError

ENV_PREFIX = "BULKREMOVE_"
CONFIG_ENV = "BULKREMOVE_CONFIG"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of a run. Build it with :func:`load_settings`, or directly in library code."""

    base_url: str | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    password_file: str | None = None
    campaign: str | None = None
    concurrency: int = 8
    rate: float = 10.0
    rate_burst: int = 2
    max_url_length: int = 8000
    max_ids_per_request: int = 500
    request_timeout: float = 30.0
    connect_timeout: float = 10.0
    call_retry_timeout: float = 900.0
    call_retry_initial: float = 5.0
    call_retry_max: float = 60.0
    max_attempts: int = 8
    retry_initial: float = 0.5
    retry_max: float = 30.0
    max_retry_after: float = 300.0
    max_body_bytes: int = 4 * 1024 * 1024
    verify_tls: bool = True
    ca_bundle: str | None = None
    journal_dir: str = "bulkremove-runs"
    skip_invalid: bool = False
    log_format: str = "console"
    log_level: str = "info"
    adaptive: bool = True
    min_rate: float = 0.5
    grace_period: float = 10.0
    max_delete: int | None = None
    assume_yes: bool = False
    progress_interval: float = 10.0
    metrics_file: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Where each non-default value came from: ``flag --rate``, ``env BULKREMOVE_RATE``, ..."""

    def public(self) -> dict[str, Any]:
        """The effective settings without secrets, for the journal and reports."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["sources"], out["password"]
        return out


# --- parsing and checking ------------------------------------------------------------------

Parser = Callable[[Any], Any]


class _Reason(ValueError):
    """A refusal that says more than the parser's usual 'must be ...'."""


def _int_in(low: int, high: int) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            value = int(value.strip())
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    parse.__doc__ = f"an integer from {low} to {high}"
    return parse


def _float_in(low: float, high: float, *, open_low: bool = False) -> Parser:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError
        number = float(value.strip() if isinstance(value, str) else value)
        if math.isnan(number) or number > high or number < low or (open_low and number == low):
            raise ValueError
        return number

    bound = ">" if open_low else ">="
    parse.__doc__ = f"a number {bound} {low:g} and <= {high:g}"
    return parse


def _bool(value: Any) -> bool:
    """true or false"""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    raise ValueError


def _text(value: Any) -> str:
    """a string"""
    if not isinstance(value, str):
        raise ValueError
    return value


def _choice(*allowed: str) -> Parser:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            raise ValueError
        return value.strip().lower()

    parse.__doc__ = "one of " + ", ".join(allowed)
    return parse


def _base_url(value: Any) -> str:
    """an http(s) URL of the API root without user info, e.g. https://acme.thulium.com/api"""
    if not isinstance(value, str):
        raise ValueError
    try:
        url = yarl.URL(value.strip())
    except (ValueError, TypeError):
        raise ValueError from None
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise ValueError
    if url.user is not None or url.password is not None:
        raise _Reason("a URL without user info: set username and password instead")
    return str(url).rstrip("/")


def _campaign(value: Any) -> str:
    """exactly five characters of [0-9A-Za-z]"""
    from bulkremove.ids import is_campaign_id

    if not isinstance(value, str) or not is_campaign_id(value.strip()):
        raise ValueError
    return value.strip()


_PARSERS: dict[str, Parser] = {
    "base_url": _base_url,
    "username": _text,
    "password": _text,
    "password_file": _text,
    "campaign": _campaign,
    "concurrency": _int_in(1, 1024),
    "rate": _float_in(0.0, 1e6, open_low=True),
    "rate_burst": _int_in(1, 1000),
    "max_url_length": _int_in(64, 1_000_000),
    "max_ids_per_request": _int_in(1, 100_000),
    "request_timeout": _float_in(0.0, 3600.0, open_low=True),
    "connect_timeout": _float_in(0.0, 3600.0, open_low=True),
    "call_retry_timeout": _float_in(0.0, 7 * 86400.0),
    "call_retry_initial": _float_in(0.0, 3600.0, open_low=True),
    "call_retry_max": _float_in(0.0, 86400.0, open_low=True),
    "max_attempts": _int_in(1, 1000),
    "retry_initial": _float_in(0.0, 3600.0, open_low=True),
    "retry_max": _float_in(0.0, 86400.0, open_low=True),
    "max_retry_after": _float_in(0.0, 86400.0),
    "max_body_bytes": _int_in(1024, 1024**3),
    "verify_tls": _bool,
    "ca_bundle": _text,
    "journal_dir": _text,
    "skip_invalid": _bool,
    "log_format": _choice("console", "json"),
    "log_level": _choice("debug", "info", "warning", "error"),
    "adaptive": _bool,
    "min_rate": _float_in(0.0, 1e6, open_low=True),
    "grace_period": _float_in(0.0, 3600.0),
    "max_delete": _int_in(0, 10**12),
    "assume_yes": _bool,
    "progress_interval": _float_in(0.0, 86400.0, open_low=True),
    "metrics_file": _text,
}

KEYS = tuple(_PARSERS)


def _check(key: str, value: Any, source: str) -> Any:
    parser = _PARSERS[key]
    try:
        return parser(value)
    except (ValueError, TypeError, OverflowError) as exc:
        allowed = str(exc) if isinstance(exc, _Reason) else (parser.__doc__ or "").strip()
        shown = "<hidden>" if key == "password" else repr(value)
        raise ConfigError(
            f"{key} = {shown} (from {source}) is invalid: must be {allowed}"
        ) from None


def _unknown_key(key: str, source: str) -> ConfigError:
    hint = difflib.get_close_matches(key, KEYS, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return ConfigError(f"unknown setting {key!r} in {source}{extra}")


def read_config_file(path: str) -> dict[str, Any]:
    """The keys of a TOML config file; unknown keys and bad TOML are refused."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    for key in data:
        if key not in _PARSERS:
            raise _unknown_key(key, f"config file {path}")
    return data


def config_file_warnings(path: str, data: Mapping[str, Any]) -> list[str]:
    """Warn when a file holding a password can be read by group or others."""
    if "password" not in data:
        return []
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return []
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return [f"config file {path} holds a password and is readable by others: chmod 600 it"]
    return []


def load_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config_path: str | None = None,
    *,
    stored: Mapping[str, Any] | None = None,
) -> tuple[Settings, list[str]]:
    """Merge the layers into Settings; returns the settings and warnings to show.

    ``flags`` holds only the options the user gave (None values are ignored). ``config_path``
    is the ``--config`` flag; without it ``BULKREMOVE_CONFIG`` is used. ``stored`` is the
    settings a resumed journal recorded: a layer just above the defaults.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []

    for key, value in (stored or {}).items():
        if key in _PARSERS and key != "password" and value is not None:
            values[key] = _check(key, value, "the journal's settings")
            sources[key] = "journal"

    path = config_path or environ.get(CONFIG_ENV) or None
    if path:
        data = read_config_file(path)
        warnings += config_file_warnings(path, data)
        for key, value in data.items():
            values[key] = _check(key, value, f"{path}:{key}")
            sources[key] = f"{path}:{key}"
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in _PARSERS:
            raise _unknown_key(key, f"environment variable {name}")
        values[key] = _check(key, value, f"env {name}")
        sources[key] = f"env {name}"
    for key, value in flags.items():
        if value is None:
            continue
        if key == "password":
            raise ConfigError("the password cannot be given as a flag: use an env var or file")
        flag = "--" + key.replace("_", "-")
        values[key] = _check(key, value, f"flag {flag}")
        sources[key] = f"flag {flag}"

    if not values.get("password") and values.get("password_file"):
        values["password"] = _read_password_file(values["password_file"], sources)
    settings = Settings(**values, sources=sources)
    _check_relations(settings)
    if not settings.verify_tls:
        warnings.append("TLS verification is off (verify_tls = false): the server is not checked")
    return settings, warnings


def _read_password_file(path: str, sources: Mapping[str, str]) -> str:
    where = sources.get("password_file", "password_file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"password_file {path} (from {where}) cannot be read: {exc.strerror}"
        ) from None
    password = text.rstrip("\r\n")
    if not password:
        raise ConfigError(f"password_file {path} (from {where}) is empty")
    return password


def _check_relations(settings: Settings) -> None:
    def where(key: str) -> str:
        return settings.sources.get(key, "default")

    if settings.call_retry_initial > settings.call_retry_max:
        raise ConfigError(
            f"call_retry_initial = {settings.call_retry_initial:g} (from "
            f"{where('call_retry_initial')}) must not exceed call_retry_max = "
            f"{settings.call_retry_max:g} (from {where('call_retry_max')})"
        )
    if settings.retry_initial > settings.retry_max:
        raise ConfigError(
            f"retry_initial = {settings.retry_initial:g} (from {where('retry_initial')}) must not "
            f"exceed retry_max = {settings.retry_max:g} (from {where('retry_max')})"
        )


def require_api(settings: Settings) -> None:
    """Refuse a run that has no API root or no credentials."""
    if not settings.base_url:
        raise ConfigError(
            "no API root: give --base-url, BULKREMOVE_BASE_URL or base_url in the config file"
        )
    if not settings.username:
        raise ConfigError("no API user: set BULKREMOVE_USERNAME or username in the config file")
    if not settings.password:
        raise ConfigError(
            "no password: set BULKREMOVE_PASSWORD, or password / password_file in the config file"
        )
