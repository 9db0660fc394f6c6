"""The run's settings: one object, filled from flags, environment, a TOML file and defaults.

``keys`` holds the table of keys (the fields of :class:`Settings`), ``parsers`` the checks of
their values, ``load`` the merge of the layers. See :mod:`bulkremove.settings.load` for the
precedence.
"""

from __future__ import annotations

from bulkremove.settings.keys import CONFIG_ENV, ENV_PREFIX, KEYS, SECTIONS, TABLE, Key, Settings
from bulkremove.settings.load import (
    config_file_warnings,
    load_settings,
    read_config_file,
    require_api,
    stored_layer,
    with_stored,
)

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "KEYS",
    "SECTIONS",
    "TABLE",
    "Key",
    "Settings",
    "config_file_warnings",
    "load_settings",
    "read_config_file",
    "require_api",
    "stored_layer",
    "with_stored",
]
