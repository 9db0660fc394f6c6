"""The input reader: sources in, ``(campaign, ids)`` batches out, invalid lines counted."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from bulkremove.errors import ConfigError, InputError
from bulkremove.ids import is_campaign_id
from bulkremove.ingest.keys import CUSTOMER_ID, IdBatch, KeyKind
from bulkremove.ingest.problems import IngestStats
from bulkremove.ingest.table import CsvSource
from bulkremove.ingest.text import read_text

STDIN = "-"
STDIN_NAME = "<stdin>"


class InputReader:
    """Iterates ``(campaign, ids)`` batches from ``sources``; fills :attr:`stats` as it goes.

    ``key`` is how the kind of key is read (customer ids unless said).
    Refuses at once (InputError) when a text source is given without a default campaign, or stdin
    is named twice. A source that cannot be read raises InputError when its turn comes. Invalid
    lines never raise: call ``stats.check()`` after the iteration.
    """

    def __init__(
        self, sources: Sequence[str], default_campaign: str | None, key: KeyKind = CUSTOMER_ID
    ) -> None:
        if default_campaign is not None and not is_campaign_id(default_campaign):
            raise ConfigError(
                f"campaign={default_campaign!r}: a campaign id is exactly 5 characters "
                "of [0-9A-Za-z]"
            )
        if list(sources).count(STDIN) > 1:
            raise InputError("standard input ('-') can be read only once")
        if default_campaign is None:
            for source in sources:
                if not _is_csv(source):
                    raise InputError(
                        f"{_display_name(source)}: --campaign is needed, "
                        "keys in a text file carry no campaign"
                    )
        self.sources = tuple(sources)
        self.default_campaign = default_campaign
        self.stats = IngestStats()
        self._key = key
        self._started = False

    def __iter__(self) -> Iterator[IdBatch]:
        if self._started:
            raise RuntimeError("an InputReader can be iterated only once")
        self._started = True
        for source in self.sources:
            name = _display_name(source)
            if source == STDIN:
                yield from self._read_source(sys.stdin.buffer, source, name)
                continue
            try:
                with open(source, "rb") as stream:
                    yield from self._read_source(stream, source, name)
            except OSError as exc:  # reading errors became InputError already: this is open()
                raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc

    def _read_source(self, stream: BinaryIO, source: str, name: str) -> Iterator[IdBatch]:
        try:
            if _is_csv(source):
                csv_source = CsvSource(name, self.default_campaign, self._key, self.stats)
                yield from csv_source.read(stream)
            else:
                assert self.default_campaign is not None  # checked in __init__
                yield from read_text(stream, name, self.default_campaign, self._key, self.stats)
        except OSError as exc:
            raise InputError(f"{name}: read failed: {exc.strerror or exc}") from exc


def _is_csv(source: str) -> bool:
    return source != STDIN and source.lower().endswith(".csv")


def _display_name(source: str) -> str:
    return STDIN_NAME if source == STDIN else source
