"""The pure parts of a restore: conversion, the body budget, the answers; the sandbox's adds."""

from __future__ import annotations

import itertools

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.errors import BadAnswerError, FatalApiError
from bulkremove.kinds import CUSTOMER_ID, PHONE_NUMBER
from bulkremove.restore.answers import LOST, Todo, batch_outcomes, single_outcome
from bulkremove.restore.budget import BodyBudget, body, body_size
from bulkremove.restore.convert import add_entry, concerns, minute
from bulkremove.sandbox.adds import AddRefused, add_customers, add_number
from bulkremove.sandbox.detailed import PHONE, Record
from bulkremove.sandbox.records import SetRecords
from bulkremove.sandbox.state import Campaign

NOW = "2026-12-07 08:00"


@pytest.mark.parametrize(
    ("listed", "sent"),
    [
        ("2027-01-05 09:30:00", "2027-01-05 09:30"),
        ("2027-01-05 09:30", "2027-01-05 09:30"),
        ("2027-01-05T09:30:15.5", "2027-01-05 09:30"),
        ("2027-01-05", "2027-01-05 00:00"),
        ("tomorrow", "tomorrow"),
        (None, None),
    ],
)
def test_a_listed_date_is_sent_in_minutes(listed: str | None, sent: str | None) -> None:
    assert minute(listed) == sent


def test_a_crm_record_is_sent_with_what_the_add_takes() -> None:
    listed = {
        "record_id": 5001, "customer_id": 441, "system_status": "MY_RECORD", "status_id": "5",
        "status": "Status 5", "create_date": "2024-01-01 00:00:00", "call_date": None,
        "next_call_date": "2027-01-05 09:30:00", "agent_name": None, "agent_login": "jan",
        "last_note": None, "order": 3,
    }  # fmt: skip
    assert add_entry(listed, CUSTOMER_ID) == {
        "customer_id": 441, "status_id": 5, "agent_login": "jan",
        "next_call_date": "2027-01-05 09:30", "order": 3,
    }  # fmt: skip
    bare = {"customer_id": 7, "status_id": "1", "agent_login": None, "order": 0}
    assert add_entry(bare, CUSTOMER_ID) == {"customer_id": 7, "status_id": 1, "order": 0}


def test_a_phone_record_keeps_its_identifier_and_fields() -> None:
    listed = {"phone_number": "0048500", "status_id": "2", "identifier": "A-1",
              "record_fields": {"city": "Gdynia"}, "order": 0}  # fmt: skip
    assert add_entry(listed, PHONE_NUMBER) == {
        "phone_number": "0048500", "status_id": 2, "identifier": "A-1",
        "record_fields": {"city": "Gdynia"}, "order": 0,
    }  # fmt: skip
    assert "record_fields" not in add_entry({**listed, "record_fields": {}}, PHONE_NUMBER)


def test_concerns_name_what_the_api_may_refuse() -> None:
    assert concerns({"system_status": "MY_RECORD", "next_call_date": "2027-01-01"}, NOW) == [
        "MY_RECORD without an agent_login"
    ]
    past = {"system_status": "CALL_NO_SOONER_THAN", "next_call_date": "2025-01-01 10:00:00"}
    assert concerns(past, NOW) == [
        "CALL_NO_SOONER_THAN next_call_date 2025-01-01 10:00 is in the past"
    ]
    assert concerns({"system_status": "CALL_NO_SOONER_THAN"}, NOW) == [
        "CALL_NO_SOONER_THAN without a next_call_date"
    ]
    assert concerns({"system_status": "TO_CALL", "next_call_date": "2020-01-01"}, NOW) == []


@given(
    sizes=st.lists(st.integers(1, 300), max_size=60),
    limit=st.integers(20, 2000),
    most=st.integers(1, 10),
)
def test_batches_keep_order_and_fit_unless_one_record_is_too_large(
    sizes: list[int], limit: int, most: int
) -> None:
    items = [(n, b"x" * size) for n, size in enumerate(sizes)]
    batches = BodyBudget(limit, most).pack(items)
    assert [item for batch in batches for item in batch] == items
    for batch in batches:
        entries = [entry for _, entry in batch]
        assert 1 <= len(batch) <= most
        assert len(body(entries)) == body_size([len(e) for e in entries])
        assert len(batch) == 1 or len(body(entries)) <= limit
    for first, second in itertools.pairwise(batches):
        grown = [entry for _, entry in [*first, second[0]]]
        assert len(first) == most or len(body(grown)) > limit  # packed greedily


def test_a_413_halves_the_budget_and_a_single_record_cannot_be_split() -> None:
    budget = BodyBudget(10_000, 500)
    assert budget.refused(8_000, 40) == 4_000
    assert budget.refused(9_000, 40) == 4_000  # packed before the budget fell: resent as is
    assert budget.refused(3_000, 2) == 1_500
    with pytest.raises(FatalApiError, match="holding one record"):
        budget.refused(1_400, 1)


def todo(key: int, tried: bool = False) -> Todo:
    return Todo(key + 5000, key, b"{}", tried)


def test_a_batch_answer_gives_each_record_its_outcome() -> None:
    sent = [todo(1), todo(2, tried=True), todo(3), todo(4), todo(5)]
    answer = {
        "1": {"http_status": 201, "record_id": 9001, "status": "ADDED"},
        "2": {"http_status": 409, "record_id": 9002, "status": "ALREADY_EXISTS"},
        "3": {"http_status": 409, "record_id": "9003", "status": "ALREADY_EXISTS"},
        "4": {"http_status": 400, "status": "FAILED", "message": "agent unknown"},
    }
    got = batch_outcomes(207, orjson.dumps(answer), sent, retried=False)
    assert [(o.state, o.new_record_id) for o in got] == [
        ("restored", 9001), ("already_present", 9002), ("already_present", 9003),
        ("failed", None), ("failed", None),
    ]  # fmt: skip
    assert got[1].detail == f"ALREADY_EXISTS; {LOST}" and got[2].detail == "ALREADY_EXISTS"
    assert "agent unknown" in str(got[3].detail)
    assert got[4].detail == "the answer says nothing of it"
    again = batch_outcomes(200, orjson.dumps(answer), sent[2:3], retried=True)
    assert again[0].detail == f"ALREADY_EXISTS; {LOST}"


def test_a_refused_batch_fails_each_record_and_a_broken_body_is_tried_again() -> None:
    error = orjson.dumps({"errors": [{"message": "records must be a list", "code": 1100}]})
    got = batch_outcomes(400, error, [todo(1), todo(2)], retried=False)
    assert {o.state for o in got} == {"failed"} and "records must be a list" in str(got[0].detail)
    with pytest.raises(BadAnswerError):
        batch_outcomes(200, b"<html>", [todo(1)], retried=False)
    with pytest.raises(BadAnswerError):
        batch_outcomes(200, b"[]", [todo(1)], retried=False)


def test_a_single_add_answer() -> None:
    assert single_outcome(201, b'{"record_id": "231"}', todo(1), False)[1:3] == ("restored", 231)
    conflict = single_outcome(409, b'{"errors": [{"message": "held"}]}', todo(1), True)
    assert conflict.state == "already_present" and LOST in str(conflict.detail)
    assert single_outcome(400, b"{}", todo(1), False).state == "failed"


def crm() -> Campaign:
    rows = [
        Record(1, 10, "TO_CALL", "1"),
        Record(2, 11, "MY_RECORD", "5", agent_login="jan", next_call_date="2027-01-01 10:00:00"),
    ]
    return Campaign("00007", SetRecords(set()), None, rows=rows)


def test_the_sandbox_batch_add_answers_per_customer() -> None:
    campaign = crm()
    records = [
        {"customer_id": 10},
        {"customer_id": 12, "status_id": 5, "agent_login": "jan",
         "next_call_date": "2027-02-01 09:15", "order": 4},
        {"customer_id": 13, "status_id": 5, "agent_login": "gone",
         "next_call_date": "2027-02-01 09:15"},
        {"customer_id": 14, "status_id": 5, "agent_login": "jan",
         "next_call_date": "2027-02-01 09:15:00"},
        {"customer_id": 12},
    ]  # fmt: skip
    answer, added = add_customers(campaign, {"records": records}, frozenset({"jan"}), NOW)
    assert added == 1
    assert [answer[k]["status"] for k in ("10", "12", "13", "14")] == [
        "ALREADY_EXISTS", "ALREADY_EXISTS", "FAILED", "FAILED"
    ]  # fmt: skip
    assert "not a known agent" in str(answer["13"]["message"])
    assert "YYYY-MM-DD hh:mm" in str(answer["14"]["message"])
    back = campaign.customer(12)
    assert back is not None and back.record_id == 3
    assert (back.system_status, back.next_call_date, back.order) == (
        "MY_RECORD", "2027-02-01 09:15:00", 4
    )  # fmt: skip
    with pytest.raises(ValueError, match="customer_id"):
        add_customers(campaign, {"records": [{"status_id": 1}]}, None, NOW)


def test_the_sandbox_single_add_refuses_a_number_it_holds() -> None:
    campaign = Campaign("00008", SetRecords(set()), None, target=PHONE, rows=[Record(1, "48500")])
    rid = add_number(campaign, {"phone_number": "48501", "record_fields": {"a": 1}}, None, NOW)
    assert rid == 2 and campaign.rows.with_key("48501")[0].record_fields == {"a": 1}
    with pytest.raises(AddRefused) as held:
        add_number(campaign, {"phone_number": "48500"}, None, NOW)
    assert held.value.status == 409
    with pytest.raises(AddRefused) as bad:
        add_number(campaign, {"phone_number": "+48"}, None, NOW)
    assert bad.value.status == 400


def test_the_question_names_the_count_the_campaign_and_the_host() -> None:
    from bulkremove.restore.plan import RestorePlan

    plan = RestorePlan("j.sqlite", "https://acme.thulium.com/api", CUSTOMER_ID)
    plan.todo["00001"] = [todo(n) for n in range(48_210)]
    plan.todo["00002"] = []
    assert plan.question() == (
        "Add 48,210 records back to campaign 00001 on acme.thulium.com? [y/N] "
    )
    plan.concerns = [f"00001 customer {n}: MY_RECORD without an agent_login" for n in range(25)]
    lines = plan.lines()
    assert lines[:2] == [
        "restore: add 48210 records back on acme.thulium.com",
        "  campaign 00001: 48210",
    ]
    assert lines[-1] == "  ... and 5 more sent as listed"
