"""Hostile answers: what a broken proxy or a lying server might send back, for tests only.

The removal is carried out as usual; then the real answer is replaced by one of these:

- ``huge``          a JSON-looking body of HUGE_BYTES, streamed without a Content-Length
- ``nested``        100,000 ``[`` (past any sane parser's depth limit)
- ``truncated``     the real answer cut in half
- ``not_object``    the real answer wrapped in a JSON list
- ``html``          a proxy's HTML page, labelled ``application/json``
- ``unasked``       the real answer plus REMOVED entries for ids that were not asked for
- ``lie``           entries only for even ids; odd ids missing, or REMOVED under other keys
- ``bad_record_id`` REMOVED with record ids that are negative, zero, huge, or not integers
- ``bad_status``    entries whose status is not a string, or not exactly a known one
- ``odd_keys``      REMOVED under keys with leading zeros, spaces, signs or non-ASCII digits
- ``gateway``       a gateway's 502 with its HTML page
- ``server_error``  a 500 with the documented error body
- ``empty``         ``{}``, with status 200
- ``duplicates``    each entry twice: the real one, then NOT_EXIST under the same key
- ``deep``          each entry nested 1200 arrays deep

Besides, ``not_found_404`` answers without removing anything: status 404, and as body the
per-record map with every entry NOT_EXIST, as the API does when none of the ids exist.

The phone-number delete answers a list per number; :func:`phone_hostile` gives every mode a
variant of that shape (``unasked`` names numbers not asked, ``lie`` drops or misspells every
other number, ``odd_keys`` spells numbers otherwise, and the rest break the lists' entries).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from aiohttp import web

from bulkremove.sandbox.responses import (
    CODE_SERVER,
    ENTRY_NOT_EXIST,
    JSON,
    RECORD_ID_OFFSET,
    error_response,
    html_page,
)

HUGE_BYTES = 8 << 20
NESTING = 100_000
DEEP = 1200
_CHUNK = 1 << 16

# Raw JSON values, so that numbers past 64 bits go out as written.
_BAD_RECORD_IDS = (
    b"-5",
    b"0",
    b'"5235"',
    b"1.5",
    b"null",
    b"true",
    b"18446744073709551615",
    b"9223372036854775808",
    b"100000000000000000000000",
    b"[5235]",
)
_BAD_STATUSES = (
    b'{"status": 1}',
    b'{"status": null}',
    b'{"status": true}',
    b'{"status": ["REMOVED"]}',
    b'{"status": {"status": "REMOVED"}}',
    b'{"status": "removed", "record_id": 1}',
    b'{"status": "REMOVED ", "record_id": 1}',
    b'{"http_status": 200, "record_id": 1}',
    b'"REMOVED"',
    b'["REMOVED"]',
)
# Digits that str.isdigit() and int() accept but that are not ASCII.
_FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
_ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))


def _removed(cid: int) -> dict[str, object]:
    return {"http_status": 200, "record_id": cid + RECORD_ID_OFFSET, "status": "REMOVED"}


def _unasked(keys: list[str]) -> dict[str, object]:
    """REMOVED entries for ids near the asked ones, none of which was asked for."""
    asked = set(keys)
    extra: dict[str, object] = {"0": _removed(0), "-7": _removed(7), "9" * 20: _removed(9)}
    for key in keys:
        cid = int(key)
        for other in (cid + 1, cid + 1_000_000):
            if str(other) not in asked:
                extra[str(other)] = _removed(other)
    return extra


def _odd_spellings(key: str) -> list[str]:
    return ["0" + key, " " + key, key + " ", "+" + key, key + ".0", key.translate(_FULLWIDTH)]


def _raw_object(pairs: list[tuple[str, bytes]]) -> bytes:
    return b"{" + b",".join(orjson.dumps(key) + b":" + value for key, value in pairs) + b"}"


async def _huge() -> AsyncIterator[bytes]:
    yield b'{"padding": "'
    for _ in range(HUGE_BYTES // _CHUNK):
        yield b" " * _CHUNK
    yield b'"}'


def hostile_response(mode: str, keys: list[str], real: bytes) -> web.Response:
    """The hostile answer of ``mode`` for the asked ``keys``, whose true answer was ``real``."""
    if mode == "huge":
        return web.Response(body=_huge(), content_type=JSON)
    if mode == "nested":
        return web.Response(body=b"[" * NESTING, content_type=JSON)
    if mode == "truncated":
        return web.Response(body=real[: len(real) // 2], content_type=JSON)
    if mode == "not_object":
        return web.Response(body=b"[" + real + b"]", content_type=JSON)
    if mode == "html":
        return web.Response(body=html_page(502, "Bad Gateway"), content_type=JSON)
    if mode == "gateway":
        page = html_page(502, "Bad Gateway")
        return web.Response(body=page, status=502, content_type="text/html")
    if mode == "server_error":
        return error_response(500, "internal server error", CODE_SERVER)
    if mode == "empty":
        return web.Response(body=b"{}", content_type=JSON)
    if mode == "deep":
        nested = b"[" * DEEP + b"]" * DEEP
        return web.Response(body=_raw_object([(key, nested) for key in keys]), content_type=JSON)
    if mode == "duplicates":
        entries = orjson.loads(real)
        twice = [(key, orjson.dumps(entries[key])) for key in keys]
        twice += [(key, orjson.dumps(ENTRY_NOT_EXIST)) for key in keys]
        return web.Response(body=_raw_object(twice), content_type=JSON)
    answer: dict[str, object] = orjson.loads(real)
    if mode == "unasked":
        body = orjson.dumps(answer | _unasked(keys))
    elif mode == "lie":
        told: dict[str, object] = {}
        for key in keys:
            if int(key) % 2 == 0:
                told[key] = answer[key]
            else:
                told["0" + key] = _removed(int(key))
        body = orjson.dumps(told | _unasked(keys))
    elif mode == "bad_record_id":
        values = _BAD_RECORD_IDS
        body = _raw_object(
            [
                (key, b'{"http_status": 200, "status": "REMOVED", "record_id": %s}' % value)
                for key, value in zip(keys, values * (len(keys) // len(values) + 1), strict=False)
            ]
        )
    elif mode == "bad_status":
        values = _BAD_STATUSES
        pairs = zip(keys, values * (len(keys) // len(values) + 1), strict=False)
        body = _raw_object(list(pairs))
    elif mode == "odd_keys":
        told = {}
        for number, key in enumerate(keys):
            spellings = _odd_spellings(key)
            told[spellings[number % len(spellings)]] = _removed(int(key))
        if keys:
            told[keys[0].translate(_ARABIC_INDIC)] = _removed(int(keys[0]))
        body = orjson.dumps(told)
    else:
        raise ValueError(f"unknown hostile mode {mode!r}")
    return web.Response(body=body, content_type=JSON)


def not_found_response(keys: list[str]) -> web.Response:
    """404 with the per-record map as body, every entry NOT_EXIST (``not_found_404``)."""
    return web.Response(
        body=orjson.dumps(dict.fromkeys(keys, ENTRY_NOT_EXIST)), status=404, content_type=JSON
    )


_GENERIC = frozenset(
    {
        "huge",
        "nested",
        "truncated",
        "not_object",
        "html",
        "gateway",
        "server_error",
        "empty",
        "deep",
    }
)


def phone_hostile(mode: str, keys: list[str], real: bytes) -> web.Response:
    """The hostile answer of ``mode`` for the numbers ``keys``, whose true answer was ``real``."""
    if mode in _GENERIC:
        return hostile_response(mode, keys, real)
    if mode == "not_found_404":
        body = orjson.dumps({key: [ENTRY_NOT_EXIST] for key in keys})
        return web.Response(body=body, status=404, content_type=JSON)
    answer: dict[str, list[object]] = orjson.loads(real)
    told: dict[str, object]
    if mode == "duplicates":
        twice = [(key, orjson.dumps(answer[key])) for key in keys]
        twice += [(key, orjson.dumps([ENTRY_NOT_EXIST])) for key in keys]
        return web.Response(body=_raw_object(twice), content_type=JSON)
    if mode == "unasked":
        told = {**answer}
        for key in keys:
            for other in (key + "1", "9" + key):
                if other not in answer:
                    told[other] = [_phone_removed(int(other[-6:]) + 1)]
    elif mode == "lie":
        told = {}
        for place, key in enumerate(keys):
            if place % 2 == 0:
                told[key] = answer[key]
            else:
                told[" " + key] = [_phone_removed(1)]
    elif mode == "bad_record_id":
        values = _BAD_RECORD_IDS
        pairs = zip(keys, values * (len(keys) // len(values) + 1), strict=False)
        entry = b'[{"http_status": 200, "status": "REMOVED", "record_id": %s}]'
        return web.Response(
            body=_raw_object([(key, entry % value) for key, value in pairs]), content_type=JSON
        )
    elif mode == "bad_status":
        values = _BAD_STATUSES
        pairs = zip(keys, values * (len(keys) // len(values) + 1), strict=False)
        return web.Response(
            body=_raw_object([(key, b"[" + value + b"]") for key, value in pairs]),
            content_type=JSON,
        )
    elif mode == "odd_keys":
        told = {}
        for place, key in enumerate(keys):
            spellings = [" " + key, key + " ", "+" + key, key + ".0", key.translate(_FULLWIDTH)]
            told[spellings[place % len(spellings)]] = answer[key]
    else:
        raise ValueError(f"unknown hostile mode {mode!r}")
    return web.Response(body=orjson.dumps(told), content_type=JSON)


def _phone_removed(rid: int) -> dict[str, object]:
    return {"http_status": 200, "record_id": rid, "status": "REMOVED"}
