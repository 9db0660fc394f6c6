"""Files a run writes besides its journal (the report, the metrics file, the skipped lines):
checked before anything is sent, so that a run never deletes and then fails to say what it did.
"""

from __future__ import annotations

import os
from pathlib import Path

from bulkremove.errors import ConfigError


def check_output_path(what: str, path: str) -> None:
    """Refuse (ConfigError) ``path`` for ``what`` when it could not be written at the end."""
    if path == "-":
        return
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"{what} {path}: the folder {folder} does not exist; nothing sent")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path}: the folder {folder} is not writable; nothing sent")
    if target.is_dir():
        raise ConfigError(f"{what} {path}: is a folder; nothing sent")
