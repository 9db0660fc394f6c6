"""Files a run writes besides its journal (the report, the metrics file, the skipped lines):
checked before anything is sent, so that a run never deletes and then fails to say what it did.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

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


def skipped_lines_path(journal: Path) -> Path:
    """Where ``skip_invalid`` lists the lines it skipped: ``<journal's name>.skipped.txt``."""
    return journal.with_suffix(".skipped.txt")


class SkippedLines:
    """The listing of skipped input lines, ``file:line: 'text': reason`` each; the file is made
    at the first line, so a clean input leaves none."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: TextIO | None = None

    def add(self, line: object) -> None:
        if self._file is None:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close)
        self._file.write(f"{line}\n")
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
