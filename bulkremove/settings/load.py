"""The merge of the settings' layers: flags, environment, config file, a journal's, defaults.

Precedence, highest first: command-line flags, ``BULKREMOVE_<KEY>`` environment variables, the
config file (``--config`` or ``BULKREMOVE_CONFIG``), the settings of a resumed journal, defaults.
Every value remembers where it came from, so a bad one is refused with the key, its source and
what is allowed.

The password is never a flag (it would show in ``ps`` and shell history): it comes from
``BULKREMOVE_PASSWORD``, the config file's ``password``, or ``password_file`` (read only when no
``password`` is set).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bulkremove.errors import ConfigError
from bulkremove.settings.keys import CONFIG_ENV, ENV_PREFIX, KEYS, TABLE, Settings
from bulkremove.settings.parsers import Reason

JOURNAL_SOURCE = "journal"


def check(key: str, value: Any, source: str) -> Any:
    """The clean value of ``key``, or a ConfigError naming the key, source and rule."""
    row = TABLE[key]
    try:
        return row.rule(value)
    except (ValueError, TypeError, OverflowError) as exc:
        allowed = str(exc) if isinstance(exc, Reason) else row.rule.allowed
        shown = "<hidden>" if row.secret else repr(value)
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
        if key not in TABLE:
            raise _unknown_key(key, f"config file {path}")
    return data


def config_file_warnings(path: str, data: Mapping[str, Any]) -> list[str]:
    """Warn when a file holding a secret can be read by group or others."""
    if not any(TABLE[key].secret for key in data):
        return []
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return []
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return [f"config file {path} holds a password and is readable by others: chmod 600 it"]
    return []


def stored_layer(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A resumed journal's recorded settings, checked, as a layer just above the defaults.

    Keys this version does not know, empty values and secrets (never recorded) are left out, and
    so is ``assume_yes``: consent is given per invocation, never inherited from a journal.
    """
    return {
        key: check(key, value, "the journal's settings")
        for key, value in stored.items()
        if key in TABLE and not TABLE[key].secret and key != "assume_yes" and value is not None
    }


def with_stored(settings: Settings, stored: Mapping[str, Any]) -> Settings:
    """``settings`` for resuming a journal that recorded ``stored``: the library's merge.

    A key the caller chose (it has a source, or a value other than its default) stays; every
    other key takes the journal's value, as it does on the command line.
    """
    layer = stored_layer(stored)
    sources = dict(settings.sources)
    chosen: dict[str, Any] = {}
    for key, value in layer.items():
        if key in sources or getattr(settings, key) != TABLE[key].default:
            continue
        chosen[key] = value
        sources[key] = JOURNAL_SOURCE
    if not chosen:
        return settings
    merged = dataclasses.replace(settings, **chosen, sources=sources)
    _check_relations(merged)
    return merged


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
    settings a resumed journal recorded (see :func:`stored_layer`).
    """
    values = stored_layer(stored or {})
    sources = dict.fromkeys(values, JOURNAL_SOURCE)
    warnings: list[str] = []

    path = config_path or environ.get(CONFIG_ENV) or None
    if path:
        data = read_config_file(path)
        warnings += config_file_warnings(path, data)
        for key, value in data.items():
            values[key] = check(key, value, f"{path}:{key}")
            sources[key] = f"{path}:{key}"
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in TABLE:
            raise _unknown_key(key, f"environment variable {name}")
        values[key] = check(key, value, f"env {name}")
        sources[key] = f"env {name}"
    for key, value in flags.items():
        if value is None:
            continue
        row = TABLE[key]
        if row.secret:
            raise ConfigError(f"the {key} cannot be given as a flag: use an env var or file")
        values[key] = check(key, value, f"flag {row.flag}")
        sources[key] = f"flag {row.flag}"

    if path and not values.get("job_name"):  # one purge per config file, one job each
        values["job_name"] = Path(path).stem
        sources["job_name"] = f"the name of {path}"
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
        raise ConfigError(
            "no API user: give --username, BULKREMOVE_USERNAME or username in the config file"
        )
    if not settings.password:
        raise ConfigError(
            "no password: set BULKREMOVE_PASSWORD, or password / password_file in the config file"
        )
