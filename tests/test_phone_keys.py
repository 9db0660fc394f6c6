"""Phone numbers as keys: reading, the wire, answers that are lists, and what they classify to."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yarl
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.answers import CALL_IN_PROGRESS, MALFORMED, MISSING, NOT_EXIST, REMOVED
from bulkremove.batching import Packer, target_length
from bulkremove.engine import Batch
from bulkremove.engine.outcomes import Now, classify
from bulkremove.errors import BadAnswerError, InputError
from bulkremove.ids import parse_phone_number, phone_number_of
from bulkremove.ingest import InputReader
from bulkremove.kinds import CUSTOMER_ID, PHONE_NUMBER, Kind, kind_named, kind_of
from bulkremove.number_answers import judge, read_number_outcomes, read_numbers_not_found
from bulkremove.settings import Settings

numbers = st.text("0123456789", min_size=1, max_size=18)
NOW = Now(monotonic=100.0, wall=1_700_000_000.0)


def key(number: str) -> int:
    found = parse_phone_number(number)
    assert found is not None
    return found


@given(numbers)
def test_a_key_gives_back_the_exact_digits_leading_zeros_and_all(number: str) -> None:
    assert phone_number_of(key(number)) == number
    assert PHONE_NUMBER.show(key(number)) == number


@given(numbers)
def test_a_listed_number_becomes_its_key_and_is_written_back_as_listed(number: str) -> None:
    assert PHONE_NUMBER.listed_key(number) == key(number)
    assert PHONE_NUMBER.listed_value(key(number)) == number
    assert PHONE_NUMBER.labelled(key(number)) == f"number {number}"


@pytest.mark.parametrize(
    ("kind", "listed", "expected"),
    [
        (CUSTOMER_ID, 441, 441),
        (CUSTOMER_ID, "0441", 441),
        (CUSTOMER_ID, 0, None),
        (CUSTOMER_ID, True, None),
        (CUSTOMER_ID, 10**18, None),
        (CUSTOMER_ID, None, None),
        (PHONE_NUMBER, "+48500", None),
        (PHONE_NUMBER, 48500, None),  # a number is text: an int would have lost its zeros
        (PHONE_NUMBER, "", None),
        (PHONE_NUMBER, "1" * 19, None),
    ],
)
def test_what_a_listing_shows_is_a_key_of_its_kind_or_none(
    kind: Kind, listed: object, expected: int | None
) -> None:
    assert kind.listed_key(listed) == expected


def test_each_kind_says_where_it_is_listed_and_how_it_is_checked() -> None:
    assert (CUSTOMER_ID.listing_path, CUSTOMER_ID.single_get) == ("crm_outbounds", True)
    assert (PHONE_NUMBER.listing_path, PHONE_NUMBER.single_get) == ("outbounds", False)
    assert CUSTOMER_ID.labelled(17) == "customer 17" and CUSTOMER_ID.listed_value(17) == 17


@given(st.lists(numbers, max_size=30))
def test_equal_keys_are_equal_numbers_whatever_the_order(given_numbers: list[str]) -> None:
    keys = [key(n) for n in given_numbers]
    assert len(set(keys)) == len(set(given_numbers))
    assert {phone_number_of(k) for k in reversed(keys)} == set(given_numbers)


def test_zeros_in_front_make_another_number() -> None:
    assert key("0048500100200") != key("48500100200")
    assert key("0") != key("00")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("+48500100200", "drop the leading +"),
        ("48 500", "ASCII digits only"),
        ("1" * 19, "longer than 18 digits"),
        ("", "empty phone number"),
    ],
)
def test_not_a_phone_number(text: str, reason: str) -> None:
    from bulkremove.ids import phone_number_problem

    assert parse_phone_number(text) is None
    assert reason in phone_number_problem(text)


def test_text_input_is_refused_line_by_line_saying_where(tmp_path: Path) -> None:
    src = tmp_path / "numbers.txt"
    src.write_text("# numbers\n0048500100200\n  600700800 \n+48600\n48-600\n0048500100200\n")
    reader = InputReader([str(src)], "00007", PHONE_NUMBER.reading)
    keys = [k for _, batch in reader for k in batch]
    assert [phone_number_of(k) for k in keys] == ["0048500100200", "600700800", "0048500100200"]
    with pytest.raises(InputError) as caught:
        reader.stats.check()
    lines = str(caught.value).splitlines()
    assert lines[0] == (
        f"{src}:4: '+48600': phone numbers are digits only, as the API stores them;"
        " drop the leading +"
    )
    assert lines[1].startswith(f"{src}:5: '48-600': phone number must be ASCII digits only")


def test_csv_input_reads_the_phone_number_column(tmp_path: Path) -> None:
    src = tmp_path / "numbers.csv"
    src.write_text("campaign_id,phone_number\n00007,007\n00008,+1\n00009,8\n")
    reader = InputReader([str(src)], None, PHONE_NUMBER.reading)
    got = [(c, phone_number_of(k)) for c, batch in reader for k in batch]
    assert got == [("00007", "007"), ("00009", "8")]
    assert reader.stats.first_invalid[0].line == 3
    assert "drop the leading +" in reader.stats.first_invalid[0].reason


def test_the_kind_is_chosen_from_settings_and_from_a_journal() -> None:
    assert kind_of(Settings()) is CUSTOMER_ID
    assert kind_of(Settings(target="phone_number")) is PHONE_NUMBER
    searched = kind_of({"target": "phone_number", "search_in_additional_numbers": True})
    assert searched.suffix == "?search_in_additional_numbers=true"
    assert kind_of({}) is CUSTOMER_ID  # what older settings imply


def test_the_wire_bytes_of_numbers() -> None:
    keys = [key("0048500100200"), key("7"), key("600700800")]
    path = PHONE_NUMBER.path("/api", "00007")
    assert PHONE_NUMBER.target(path, keys) == (
        "/api/batch/outbounds/00007/records?phone_number%5B%5D=0048500100200"
        "&phone_number%5B%5D=7&phone_number%5B%5D=600700800"
    )
    searched = kind_named("phone_number", True)
    spath = searched.path("/api", "00007")
    assert searched.target(spath, keys[1:2]) == (
        "/api/batch/outbounds/00007/records?search_in_additional_numbers=true&phone_number%5B%5D=7"
    )


@given(st.lists(numbers, min_size=1, max_size=40, unique=True), st.booleans(), st.data())
def test_the_byte_budget_counts_numbers_exactly_as_sent(
    given_numbers: list[str], s: bool, data: st.DataObject
) -> None:
    kind = kind_named("phone_number", s)
    keys = [key(n) for n in given_numbers]
    path = kind.path("/api", "00007")
    sent = kind.target(path, keys)
    assert target_length(path, keys) == len(sent)
    # what yarl puts on the wire, unchanged
    assert yarl.URL("http://h" + sent, encoded=True).raw_path_qs == sent
    least = len(path) + 1 + 19 + 19  # the widest key fits alone
    budget = data.draw(st.integers(least, max(least, len(sent) + 5)))
    fits = Packer(path, budget, len(keys)).add_many(keys)
    assert len(kind.target(path, keys[:fits])) <= budget
    assert fits == len(keys) or len(kind.target(path, keys[: fits + 1])) > budget


def test_keys_that_are_no_phone_number_are_refused_before_sending() -> None:
    path = PHONE_NUMBER.path("/api", "00007")
    for bad in ([5], [25], [key("1"), 2 * 10**18], [True]):
        with pytest.raises(InputError, match="refusing to send phone number key"):
            PHONE_NUMBER.target(path, bad)  # type: ignore[arg-type]


def entry(status: str, record_id: int | None = None) -> dict[str, object]:
    code = {REMOVED: 200, NOT_EXIST: 404, CALL_IN_PROGRESS: 409}.get(status, 400)
    out: dict[str, object] = {"http_status": code, "status": status}
    if record_id is not None:
        out["record_id"] = record_id
    return out


def test_each_number_is_judged_on_its_whole_list() -> None:
    assert judge([entry(REMOVED, 1), entry(REMOVED, 2)]) == (REMOVED, [1, 2], None)
    assert judge([entry(NOT_EXIST)]) == (NOT_EXIST, [], None)
    assert judge([]) == (NOT_EXIST, [], None)
    assert judge([entry(REMOVED, 3), entry(CALL_IN_PROGRESS, 4)]) == (CALL_IN_PROGRESS, [3], None)
    assert judge(None) == (MISSING, [], None)
    status, removed, detail = judge([entry(REMOVED, 5), entry("LOCKED", 6)])
    assert (status, removed) == ("LOCKED", [5])
    assert detail is not None and "LOCKED" in detail
    assert judge({"status": REMOVED})[0] == MALFORMED
    assert judge([entry(REMOVED)])[0] == MALFORMED  # removed, but which record is unknown


def test_an_answer_maps_numbers_by_their_exact_digits() -> None:
    keys = [key("007"), key("7"), key("8")]
    body = orjson.dumps(
        {
            "007": [entry(REMOVED, 11), entry(REMOVED, 12), entry(REMOVED, 13)],
            "7": [entry(NOT_EXIST)],
            "9": [entry(REMOVED, 99)],  # never asked: ignored
        }
    )
    answer = read_number_outcomes(body, keys)
    assert answer.statuses == [REMOVED, NOT_EXIST, MISSING]
    assert answer.removed == {0: [11, 12, 13]}
    assert 2 in answer.details
    with pytest.raises(BadAnswerError):
        read_number_outcomes(b"[]", keys)
    assert read_numbers_not_found(orjson.dumps({"007": [entry(NOT_EXIST)]}), keys[:1])
    assert read_numbers_not_found(b'{"errors": []}', keys[:1]) is None


def retry_every_5s(now: float, first: float, tried: int) -> float | None:
    return now + 5.0 if now < first + 60.0 else None


def test_a_number_in_a_call_is_retried_while_its_removed_siblings_are_kept() -> None:
    a, b, c = key("111"), key("222"), key("333")
    body = orjson.dumps(
        {
            "111": [entry(REMOVED, 1), entry(CALL_IN_PROGRESS, 2), entry(REMOVED, 3)],
            "222": [entry(REMOVED, 4)],
            "333": [entry(NOT_EXIST)],
        }
    )
    batch = Batch("00007", [a, b, c])
    groups, retries = classify(batch, read_number_outcomes(body, batch.ids), NOW, retry_every_5s)
    states = {g.state: list(g.ids) for g in groups}
    assert states == {"removed": [b], "not_found": [c], "in_call": [a]}
    assert [r.customer_id for r in retries] == [a]
    kept = sorted(pair for g in groups for pair in g.records)
    assert kept == [(a, 1), (a, 3), (b, 4)]


def test_all_removed_keeps_every_record_id_in_one_group() -> None:
    a, b = key("1"), key("2")
    body = orjson.dumps({"1": [entry(REMOVED, 1), entry(REMOVED, 2)], "2": [entry(REMOVED, 3)]})
    batch = Batch("00007", [a, b], run=True)
    groups, retries = classify(batch, read_number_outcomes(body, batch.ids), NOW, retry_every_5s)
    assert retries == []
    assert [(g.state, list(g.ids), list(g.records)) for g in groups] == [
        ("removed", [a, b], [(a, 1), (a, 2), (b, 3)])
    ]


def test_an_odd_entry_fails_the_number_flagged_with_its_raw_list() -> None:
    a = key("5")
    body = orjson.dumps({"5": [entry(REMOVED, 7), entry("LOCKED", 8)]})
    groups, _ = classify(Batch("00007", [a]), read_number_outcomes(body, [a]), NOW, retry_every_5s)
    (group,) = groups
    assert (group.state, group.answer_lost, list(group.records)) == ("failed", True, [(a, 7)])
    assert group.detail is not None and "LOCKED" in group.detail


def test_the_question_and_the_plan_count_phone_numbers() -> None:
    from bulkremove.plan import Plan

    plan = Plan("j", "https://acme.example/api", {"00007": 1204}, 3, 10.0, 8000, 500)
    numbers = Plan(
        "j", "https://acme.example/api", {"00007": 1204}, 3, 10.0, 8000, 500,
        target="phone_number",
    )  # fmt: skip
    assert plan.question().startswith("Remove 1204 records from campaign 00007")
    assert numbers.question() == (
        "Remove 1204 phone numbers from campaign 00007 on acme.example? [y/N] "
    )
    assert numbers.lines()[0].startswith("plan: remove 1204 phone numbers")
    assert numbers.as_dict()["target"] == "phone_number"


entries = st.one_of(
    st.builds(entry, st.just(REMOVED), st.integers(1, 10**6)),
    st.builds(entry, st.sampled_from([NOT_EXIST, CALL_IN_PROGRESS, "LOCKED"])),
)


@given(st.dictionaries(numbers, st.lists(entries, max_size=4), min_size=1, max_size=12))
def test_every_number_gets_one_state_and_every_removed_record_is_kept(
    answer: dict[str, list[dict[str, object]]],
) -> None:
    keys = [key(n) for n in answer]
    batch = Batch("00007", keys)
    outcomes = read_number_outcomes(orjson.dumps(answer), keys)
    groups, retries = classify(batch, outcomes, NOW, retry_every_5s)
    placed = [k for g in groups for k in g.ids]
    assert sorted(placed) == sorted(keys), "each number in exactly one group"
    kept = sorted(pair for g in groups for pair in g.records)
    said = sorted(
        (key(n), e["record_id"]) for n, es in answer.items() for e in es if e["status"] == REMOVED
    )
    assert kept == said
    state = {k: g.state for g in groups for k in g.ids}
    for number, listed in answer.items():
        got = state[key(number)]
        statuses = {e["status"] for e in listed}
        if CALL_IN_PROGRESS in statuses:
            assert got == "in_call"
        elif "LOCKED" in statuses:
            assert got == "failed"
        elif REMOVED in statuses:
            assert got == "removed"
        else:
            assert got == "not_found"
    assert {r.customer_id for r in retries} == {k for k, s in state.items() if s == "in_call"}
