"""Removal by selection, without sockets: passes until they agree, numbers held back, and the
listing kept in a real journal from a scripted API whose statuses change while it is paged."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.errors import ConfigError, UnsettledError, UsageError
from bulkremove.journal import Journal
from bulkremove.listing.holdback import numbers_to_remove
from bulkremove.listing.pages import PAGE_SIZE
from bulkremove.listing.passes import Agreement
from bulkremove.listing.records import ListedRecord
from bulkremove.listing.selection import check_selection, listing_state, prepare_selection
from bulkremove.settings import Settings
from bulkremove.settings.where import parse_filters

# --- passes ----------------------------------------------------------------------------


class Campaign:
    """Records in order of addition; ``matching`` is the selection as it stands now."""

    def __init__(self, size: int, matching: Callable[[int], bool]) -> None:
        self.status = {record_id: matching(record_id) for record_id in range(1, size + 1)}

    def matching(self) -> list[int]:
        return [record_id for record_id, match in self.status.items() if match]

    def page(self, offset: int) -> tuple[int, list[int]]:
        now = self.matching()
        return len(now), now[offset : offset + PAGE_SIZE]


def read_pass(agreement: Agreement, campaign: Campaign, between: Callable[[], None]) -> None:
    """One pass by overlapping offsets; ``between`` changes the campaign before each page."""
    tally = agreement.current()
    while not tally.done:
        between()
        count, ids = campaign.page(tally.next_offset)
        last = not ids or tally.next_offset + PAGE_SIZE >= count
        tally.add(tally.next_offset, count, [(i, i + 1000) for i in ids], last)


def test_a_quiet_selection_settles_in_two_passes() -> None:
    campaign = Campaign(450, lambda i: i % 2 == 0)
    agreement = Agreement(5)
    for _ in range(2):
        read_pass(agreement, campaign, lambda: None)
    assert agreement.settled
    assert sorted(agreement.selection()) == campaign.matching()
    assert agreement.passes[-1].figures() == {
        "pass": 2, "pages": 3, "count": 225, "read": 225, "good": True, "flaw": None,
    }  # fmt: skip


def _moves(campaign: Campaign, *moves: tuple[list[int], list[int]] | None) -> Callable[[], None]:
    """Before each page, the next move: records that stop matching, records that start."""
    left = iter(moves)

    def move() -> None:
        step = next(left, None)
        if step:
            for record_id in step[0]:
                campaign.status[record_id] = False
            for record_id in step[1]:
                campaign.status[record_id] = True

    return move


def test_a_shift_within_the_overlap_skips_nothing() -> None:
    campaign = Campaign(300, lambda i: i < 300)
    agreement = Agreement(5)
    # before the second page record 50 leaves and record 300 comes: the count stays 299
    read_pass(agreement, campaign, _moves(campaign, None, ([50], [300])))
    first = agreement.passes[0]
    assert 101 in first.entries  # the shift moved it back into the overlap, not past it
    assert first.flaw() == "read 300 records of 299 counted"  # record 50 and record 300
    read_pass(agreement, campaign, lambda: None)
    assert not agreement.settled
    read_pass(agreement, campaign, lambda: None)
    assert agreement.settled and 101 in agreement.selection() and 50 not in agreement.selection()


def test_a_shift_past_the_overlap_is_a_gap() -> None:
    campaign = Campaign(300, lambda i: i <= 280)
    agreement = Agreement(5)
    twenty_out_twenty_in = (list(range(1, 21)), list(range(281, 301)))
    read_pass(agreement, campaign, _moves(campaign, None, twenty_out_twenty_in))
    tally = agreement.passes[0]
    assert set(tally.counts) == {280}
    assert not set(range(101, 111)) & set(tally.entries)  # skipped, and seen to be
    assert tally.flaw() == "1 pages shared no record with the page before"


def test_a_count_that_changes_spoils_the_pass() -> None:
    campaign = Campaign(300, lambda i: i > 10)
    agreement = Agreement(5)
    read_pass(agreement, campaign, _moves(campaign, None, ([], [5])))
    tally = agreement.passes[0]
    assert not tally.good
    assert tally.flaw() == "count changed while paging (290, 291)"


def test_a_churning_selection_is_refused_after_the_bound_saying_why() -> None:
    campaign = Campaign(250, lambda i: i % 2 == 0)
    rng = random.Random(3)
    agreement = Agreement(3)

    def churn() -> None:
        record_id = rng.randint(1, 250)
        campaign.status[record_id] = not campaign.status[record_id]

    while not agreement.exhausted:
        read_pass(agreement, campaign, churn)
    assert not agreement.settled
    refusal = agreement.refusal()
    assert refusal.startswith("the selection did not hold still over 3 passes (counts per pass: ")
    assert f"{agreement.moved()} records differ between the last two passes" in refusal
    assert "nothing was removed" in refusal
    with pytest.raises(ValueError, match="do not agree"):
        agreement.selection()


@given(st.integers(0, 2**32), st.integers(0, 12), st.integers(50, 400))
def test_never_matched_is_never_selected_and_matched_throughout_always_is(
    seed: int, flips: int, size: int
) -> None:
    rng = random.Random(seed)
    campaign = Campaign(size, lambda i: rng.random() < 0.5)
    ever = set(campaign.matching())
    always = set(campaign.matching())
    in_pass = set(always)  # matching throughout the pass being read
    agreement = Agreement(6)

    def churn() -> None:
        for _ in range(rng.randint(0, flips) if rng.random() < 0.5 else 0):
            record_id = rng.randint(1, size)
            campaign.status[record_id] = not campaign.status[record_id]
        now = set(campaign.matching())
        ever.update(now)
        always.intersection_update(now)
        in_pass.intersection_update(now)

    while not agreement.settled and not agreement.exhausted:
        in_pass = set(campaign.matching())
        read_pass(agreement, campaign, churn)
        tally = agreement.passes[-1]
        assert set(tally.entries) <= ever
        if not tally.gaps:
            assert in_pass <= set(tally.entries), "a pass without a gap skips nothing"
    if agreement.settled:
        assert always <= set(agreement.selection()) <= ever


# --- numbers held back -----------------------------------------------------------------


def _phone(record_id: int, number: str, status: str = "NO_CALL") -> ListedRecord:
    return ListedRecord(record_id, number, status, {})


def test_a_number_goes_only_when_every_record_carrying_it_is_selected() -> None:
    campaign = [
        _phone(1, "0048500"),
        _phone(2, "0048500"),
        _phone(3, "48500"),
        _phone(4, "48500", "TO_CALL"),
        _phone(5, "600"),
    ]
    selected = {1: "0048500", 2: "0048500", 3: "48500", 5: "600", 9: "700"}
    numbers = numbers_to_remove(selected, campaign)
    assert numbers.remove == ["0048500", "600"]
    assert [(h.number, h.reason) for h in numbers.held_back] == [
        ("48500", "record 4 (TO_CALL) carries it too and is not selected"),
        ("700", "record 9 is no longer in the campaign's listing"),
    ]


# --- the listing kept in a journal -------------------------------------------------------


class ScriptedApi:
    """Answers listing GETs from a :class:`Campaign`; ``between`` runs before each answer."""

    def __init__(self, campaign: Campaign, between: Callable[[], None] = lambda: None) -> None:
        self.campaign = campaign
        self.between = between
        self.gets = 0

    async def get(self, target: str, *, absent: bool = False) -> bytes | None:
        self.gets += 1
        self.between()
        offset = int(target.split("offset=")[1].split("&")[0])
        count, ids = self.campaign.page(offset)
        rows = [{"record_id": i, "customer_id": i + 1000, "system_status": "NO_CALL"} for i in ids]
        return orjson.dumps({"count": count, "result": rows})


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": "http://127.0.0.1:9/api",
        "username": "u",
        "password": "p",
        "campaign": "00001",
        "where": parse_filters("system_status=NO_CALL"),
        "rate": 1000.0,
        "journal_dir": str(tmp_path),
    }
    return Settings(**{**values, **extra})


def test_the_agreed_records_are_kept_and_their_keys_are_pending(tmp_path: Path) -> None:
    api = ScriptedApi(Campaign(230, lambda i: i % 2 == 1))
    path = str(tmp_path / "j.sqlite")
    prepared = anyio.run(
        lambda: prepare_selection(_settings(tmp_path), api, journal_path=path, dry_run=True)
    )
    prepared.journal.close()
    assert prepared.plan.ids == 115 and api.gets == 4
    assert prepared.plan.selection["count"] == 115  # the overlap read twice counts once
    assert prepared.plan.input["duplicates"] == 0
    assert prepared.plan.selection["passes"][-1]["good"]
    with Journal.open(path) as journal:
        assert journal.get_meta("state") == "dry_run"
        assert [cid for _, cid in journal.ids_in_states(["pending"])] == list(range(1001, 1231, 2))
        listed = list(journal.listed("00001"))
        assert listed[0] == (
            1,
            1001,
            {"record_id": 1, "customer_id": 1001, "system_status": "NO_CALL"},
        )
        assert list(journal.listed_pages("selection")) == []
    assert listing_state(path) == "agreed"


def test_a_killed_listing_goes_on_at_its_last_page(tmp_path: Path) -> None:
    campaign = Campaign(350, lambda i: True)
    path = str(tmp_path / "j.sqlite")

    class Killed(Exception):
        pass

    def kill_at_sixth() -> None:
        if api.gets == 6:
            raise Killed

    api = ScriptedApi(campaign, kill_at_sixth)
    with pytest.raises(Killed):
        anyio.run(lambda: prepare_selection(_settings(tmp_path), api, journal_path=path))
    assert listing_state(path) == "listing"  # kept: pass 1 whole, pass 2 one page
    other = _settings(tmp_path, where=parse_filters("system_status=CALL"))
    with pytest.raises(ConfigError, match="goes on with the selection it began with"):
        anyio.run(lambda: prepare_selection(other, ScriptedApi(campaign), resume=path))
    again = ScriptedApi(campaign)
    prepared = anyio.run(lambda: prepare_selection(_settings(tmp_path), again, resume=path))
    prepared.journal.close()
    assert again.gets == 3 and prepared.plan.ids == 350  # the rest of pass 2 only


def test_a_selection_that_never_settles_is_refused_and_its_journal_removed(
    tmp_path: Path,
) -> None:
    campaign = Campaign(150, lambda i: True)
    path = tmp_path / "j.sqlite"
    flip = iter(range(1, 10**6))

    def churn() -> None:
        record_id = next(flip) % 150 + 1
        campaign.status[record_id] = not campaign.status[record_id]

    settings = _settings(tmp_path, max_listing_passes=3)
    with pytest.raises(UnsettledError, match="over 3 passes"):
        anyio.run(
            lambda: prepare_selection(
                settings, ScriptedApi(campaign, churn), journal_path=str(path)
            )
        )
    assert not path.exists()


def test_a_selection_needs_a_campaign_no_input_and_no_additional_numbers(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the campaign"):
        check_selection(_settings(tmp_path, campaign=None))
    with pytest.raises(UsageError, match="give no --input"):
        check_selection(_settings(tmp_path), ["ids.txt"])


def test_a_phone_selection_sends_only_numbers_whose_every_record_is_selected(
    tmp_path: Path,
) -> None:
    numbers = {1: "0048500", 2: "0048500", 3: "48500", 4: "48500", 5: "600"}
    status = {1: "NO_CALL", 2: "NO_CALL", 3: "NO_CALL", 4: "TO_CALL", 5: "NO_CALL"}

    async def get(target: str, *, absent: bool = False) -> bytes:
        rows = [
            {"record_id": i, "phone_number": numbers[i], "system_status": status[i]}
            for i in numbers
            if "system_status" not in target or status[i] == "NO_CALL"
        ]
        assert target.startswith("outbounds/00001/records?")
        return orjson.dumps({"count": len(rows), "result": rows})

    api = type("Api", (), {"get": staticmethod(get)})()
    path = str(tmp_path / "j.sqlite")
    settings = _settings(tmp_path, target="phone_number")
    prepared = anyio.run(lambda: prepare_selection(settings, api, journal_path=path))
    prepared.journal.close()
    assert prepared.plan.selection["held_back"] == [
        {"number": "48500", "reason": "record 4 (TO_CALL) carries it too and is not selected"}
    ]
    assert len(prepared.plan.selection["campaign_passes"]) == 2
    with Journal.open(path) as journal:
        keys = sorted(key for _, key in journal.ids_in_states(["pending"]))
        assert [row[:2] for row in journal.listed("00001")] == [
            (1, "0048500"), (2, "0048500"), (3, "48500"), (5, "600"),
        ]  # fmt: skip
    assert keys == [1600, 10048500]  # the numbers' keys: digits behind a sentinel 1


def test_where_comes_from_flags_the_environment_or_a_config_table(tmp_path: Path) -> None:
    from bulkremove.settings import load_settings

    flags, _ = load_settings({"where": ["system_status=NO_CALL", "system_status=CALL"]}, {})
    assert str(flags.where) == "system_status=NO_CALL system_status=CALL"
    env, _ = load_settings({}, {"BULKREMOVE_WHERE": "status_id=3,create_date_to=2025-12-31"})
    assert env.where == parse_filters(["status_id=3", "create_date_to=2025-12-31"])
    config = tmp_path / "purge.toml"
    config.write_text('campaign = "00001"\n[where]\nsystem_status = ["NO_CALL"]\n'
                      "create_date_to = 2025-12-31\n")  # fmt: skip
    table, _ = load_settings({}, {}, str(config))
    assert table.where is not None
    assert table.where.as_dict() == {"system_status": ["NO_CALL"], "create_date_to": "2025-12-31"}
    stored, _ = load_settings({}, {}, stored=table.public())  # as a journal keeps it
    assert stored.where == table.where
    config.write_text('[where]\nsystem_status = ["NOPE"]\n')
    with pytest.raises(ConfigError, match=r"\(from .*purge.toml:where\) is invalid: must be a"):
        load_settings({}, {}, str(config))


def test_a_resumed_listing_refused_is_kept_and_lists_afresh_next_time(tmp_path: Path) -> None:
    campaign = Campaign(150, lambda i: True)
    path = str(tmp_path / "j.sqlite")
    flips = iter(range(10**6))

    def churn() -> None:
        record_id = next(flips) % 150 + 1
        campaign.status[record_id] = not campaign.status[record_id]

    def stop() -> None:
        raise KeyboardInterrupt

    settings = _settings(tmp_path, max_listing_passes=2)
    with pytest.raises(KeyboardInterrupt):
        anyio.run(
            lambda: prepare_selection(settings, ScriptedApi(campaign, stop), journal_path=path)
        )
    with pytest.raises(UnsettledError):
        anyio.run(lambda: prepare_selection(settings, ScriptedApi(campaign, churn), resume=path))
    assert listing_state(path) == "refused"
    quiet = ScriptedApi(campaign)
    prepared = anyio.run(lambda: prepare_selection(settings, quiet, resume=path))
    prepared.journal.close()
    assert quiet.gets == 4 and prepared.plan.ids == len(campaign.matching())
    assert [p["pass"] for p in prepared.plan.selection["passes"]] == [1, 2]
