"""Log configuration: structlog, to stderr, as readable lines or JSON lines.

Events are snake_case names with bound keys. A processor drops any key that could carry a
credential, so a careless ``log.info(..., headers=...)`` cannot leak one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson

from bulkremove.startup import rich_blocked

with rich_blocked():
    import structlog

_SECRET_KEYS = frozenset({"password", "authorization", "auth", "headers"})
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def _drop_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in _SECRET_KEYS.intersection(event):
        event[key] = "<hidden>"
    return event


def _orjson_dumps(event: Any, default: Any = None) -> str:
    return orjson.dumps(event, default=default).decode()


def configure(
    log_format: str = "console", level: str = "info", stream: TextIO | None = None
) -> None:
    """Send log events to ``stream`` (stderr by default) at ``level`` and above."""
    out = stream or sys.stderr
    renderer: Any
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, pad_event_to=0, exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.ERROR)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A bound logger whose events carry ``logger=name``."""
    return structlog.get_logger().bind(logger=name)
