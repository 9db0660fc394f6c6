"""The bodies the sandbox answers with, in the API's documented formats.

Errors look like ``{"request_id": "53678450401cf", "errors": [{"message": ..., "code": ...}]}``.
The API documents the shape but not its codes, so the sandbox uses its own, listed here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import orjson
from aiohttp import web

CODE_AUTHENTICATION = 1001
CODE_PERMISSION = 1003
CODE_NOT_FOUND = 1004
CODE_METHOD = 1005
CODE_VALIDATION = 1100
CODE_URI_TOO_LONG = 1414
CODE_TOO_LARGE = 1413
CODE_CONFLICT = 1409
CODE_RATE_LIMIT = 1429
CODE_SERVER = 1500

JSON = "application/json"

ENTRY_NOT_EXIST = {"http_status": 404, "status": "NOT_EXIST"}
ENTRY_IN_CALL = {"http_status": 409, "status": "CALL_IN_PROGRESS"}
RECORD_ID_OFFSET = 5_000_000
"""record_id = customer id + this: stable, and visibly not the customer id."""


class ValidationError(ValueError):
    """A request's parameters are invalid; answered 400."""


def request_id() -> str:
    """Thirteen hex digits, like the API's request ids."""
    return os.urandom(7).hex()[:13]


def error_response(
    status: int, message: str, code: int, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An error answer in the documented format."""
    body = {"request_id": request_id(), "errors": [{"message": message, "code": code}]}
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON, headers=headers)


def json_response(body: object, status: int = 200) -> web.Response:
    """Any JSON answer."""
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON)


def html_page(status: int, reason: str) -> bytes:
    """An error page as a reverse proxy would serve it."""
    title = f"{status} {reason}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def html_response() -> web.Response:
    """A 200 whose body is a proxy's HTML error page, not the API's JSON."""
    return web.Response(body=html_page(502, "Bad Gateway"), status=200, content_type="text/html")
