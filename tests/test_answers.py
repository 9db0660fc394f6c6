from __future__ import annotations

import email.utils

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.answers import (
    CALL_IN_PROGRESS,
    MALFORMED,
    MISSING,
    NOT_EXIST,
    REMOVED,
    _top_level_pairs,
    error_message,
    mentions_url_length,
    parse_outcomes,
    parse_retry_after,
    read_not_found,
)
from bulkremove.errors import BadAnswerError


def test_documented_example() -> None:
    body = (
        b'{"441": {"http_status": 200, "record_id": 5235, "status": "REMOVED"},'
        b' "442": {"http_status": 404, "status":"NOT_EXIST"}}'
    )
    outcomes = parse_outcomes(body, [441, 442])
    assert [(o.customer_id, o.status, o.record_id, o.detail) for o in outcomes] == [
        (441, REMOVED, 5235, None),
        (442, NOT_EXIST, None, None),
    ]


def test_call_in_progress_missing_unknown_and_malformed() -> None:
    body = orjson.dumps(
        {
            "1": {"http_status": 409, "status": CALL_IN_PROGRESS},
            "3": {"http_status": 500, "status": "LOCKED_BY_ADMIN"},
            "4": {"status": 7},
            "5": "REMOVED",
            "99": {"http_status": 200, "status": REMOVED, "record_id": 1},
        }
    )
    out = {o.customer_id: o for o in parse_outcomes(body, [1, 2, 3, 4, 5])}
    assert out[1].status == CALL_IN_PROGRESS
    assert out[2].status == MISSING
    assert out[3].status == "LOCKED_BY_ADMIN"
    assert out[3].detail is not None and "LOCKED_BY_ADMIN" in out[3].detail
    assert out[4].status == MALFORMED
    assert out[5].status == MALFORMED
    assert 99 not in out, "ids that were not asked for are ignored"


@pytest.mark.parametrize("record_id", [-5, 0, "12", 1.5, None, True])
def test_removed_with_unusable_record_id_keeps_the_entry(record_id: object) -> None:
    body = orjson.dumps({"7": {"status": REMOVED, "record_id": record_id}})
    (outcome,) = parse_outcomes(body, [7])
    assert outcome.status == REMOVED
    assert outcome.record_id is None
    assert outcome.detail is not None


@pytest.mark.parametrize(
    "body", [b"<html>502 Bad Gateway</html>", b"[1, 2]", b'"x"', b"", b"{", b"[" * 5000]
)
def test_not_an_object_is_a_bad_answer(body: bytes) -> None:
    with pytest.raises(BadAnswerError):
        parse_outcomes(body, [1])


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(body: bytes) -> None:
    try:
        outcomes = parse_outcomes(body, [1, 2])
    except BadAnswerError:
        return
    assert [o.customer_id for o in outcomes] == [1, 2]
    assert all(o.status != REMOVED for o in outcomes) or b"REMOVED" in body


def test_error_message_uses_documented_body() -> None:
    body = b'{"request_id": "abc123", "errors": [{"message": "Unauthorized", "code": 401}]}'
    assert error_message(401, body) == "HTTP 401: Unauthorized (code 401) [request_id abc123]"
    assert (
        error_message(502, b"<html> Bad\n gateway </html>")
        == "HTTP 502: <html> Bad gateway </html>"
    )
    assert error_message(500, b"") == "HTTP 500"


def test_url_length_mentions() -> None:
    assert mentions_url_length(b'{"errors":[{"message":"Request URI too long"}]}')
    assert mentions_url_length(b"URL length exceeded")
    assert not mentions_url_length(b'{"errors":[{"message":"customer_id must be integer"}]}')


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    for bad in (None, "", "soon", "-3", "nan"):
        assert parse_retry_after(bad, now) is None


REMOVED_5 = b'{"http_status": 200, "record_id": 5235, "status": "REMOVED"}'
NOT_EXIST_5 = b'{"http_status": 404, "status": "NOT_EXIST"}'


@pytest.mark.parametrize(
    "body",
    [
        b'{"5": ' + REMOVED_5 + b', "5": ' + NOT_EXIST_5 + b', "6": ' + NOT_EXIST_5 + b"}",
        b'{"5": ' + NOT_EXIST_5 + b', "6": ' + NOT_EXIST_5 + b', "5": ' + REMOVED_5 + b"}",
    ],
)
def test_of_duplicate_entries_removed_wins_and_the_oddity_is_kept(body: bytes) -> None:
    five, six = parse_outcomes(body, [5, 6])
    assert (five.status, five.record_id) == (REMOVED, 5235)
    assert five.detail is not None and five.detail.startswith("duplicate entries")
    assert "NOT_EXIST" in five.detail and "REMOVED" in five.detail
    assert (six.status, six.detail) == (NOT_EXIST, None)


def test_duplicate_entries_that_agree_are_still_noted() -> None:
    (five,) = parse_outcomes(b'{"5": ' + NOT_EXIST_5 + b', "5": ' + NOT_EXIST_5 + b"}", [5])
    assert five.status == NOT_EXIST
    assert five.detail is not None and five.detail.startswith("duplicate entries")


def test_a_status_spelled_with_escapes_is_seen_twice_too() -> None:
    body = b'{"5": ' + REMOVED_5 + b', "5": {"st\\u0061tus": "NOT_EXIST"}}'
    (five,) = parse_outcomes(body, [5])
    assert (five.status, five.record_id) == (REMOVED, 5235)


@pytest.mark.parametrize(
    ("body", "answers"),
    [
        (b'{"5": ' + NOT_EXIST_5 + b', "6": ' + NOT_EXIST_5 + b"}", True),
        (b'{"request_id": "53678450401cf", "errors": [{"message": "x", "code": 4}]}', False),
        (b'{"5": ' + NOT_EXIST_5 + b', "6": ' + REMOVED_5 + b"}", False),
        (b'{"5": ' + NOT_EXIST_5 + b"}", False),
        (b"<html>404 Not Found</html>", False),
        (b"", False),
    ],
)
def test_a_404_is_read_as_answers_only_when_every_entry_is_not_exist(
    body: bytes, answers: bool
) -> None:
    outcomes = read_not_found(body, [5, 6])
    if answers:
        assert outcomes is not None
        assert [(o.customer_id, o.status) for o in outcomes] == [(5, NOT_EXIST), (6, NOT_EXIST)]
    else:
        assert outcomes is None


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.lists(st.tuples(st.text(), _json_values), max_size=8))
def test_top_level_pairs_keep_every_pair_in_order(pairs: list[tuple[str, object]]) -> None:
    body = b"{" + b",".join(orjson.dumps(k) + b":" + orjson.dumps(v) for k, v in pairs) + b"}"
    assert _top_level_pairs(body) == pairs
