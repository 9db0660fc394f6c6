"""Verification without sockets: the agreement rules, the seeded sample, the choice of way, and
what a verification writes into a real journal (the API is a scripted source)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkremove.errors import AuthenticationError, CampaignNotFoundError, JournalError
from bulkremove.exits import EXIT_DISAGREE, EXIT_OK
from bulkremove.journal import Journal, OutcomeGroup, State
from bulkremove.kinds import CUSTOMER_ID, Kind
from bulkremove.report import build_report
from bulkremove.run import JobResult
from bulkremove.settings import Settings
from bulkremove.verify.job import checked_kind, verified_run
from bulkremove.verify.proof import Verification, record, verify
from bulkremove.verify.rules import ABSENT, DECIDED, Finding, Seen, expects_present
from bulkremove.verify.sample import pick, positions
from bulkremove.verify.ways import PAGE, cheaper_way, seen

pytestmark = pytest.mark.anyio
SETTINGS = {"campaign": "00001", "base_url": "https://x.example/api"}


class Listed(NamedTuple):
    record_id: int
    key: int
    system_status: str | None = "TO_CALL"


@dataclass
class ScriptedApi:
    """Campaigns holding customer ids now; counts every kind of request."""

    campaigns: dict[str, set[int]]
    asked: list[int] = field(default_factory=list)
    pages: int = 0
    counts: int = 0

    def _held(self, campaign: str) -> set[int]:
        if campaign not in self.campaigns:
            raise CampaignNotFoundError("campaign not found", status=404)
        return self.campaigns[campaign]

    async def count(self, campaign: str, kind: Kind) -> int:
        assert kind.name == "customer_id"
        self.counts += 1
        return len(self._held(campaign))

    async def listing(self, campaign: str, kind: Kind) -> AsyncIterator[Sequence[Listed]]:
        keys = sorted(self._held(campaign))
        for start in range(0, max(len(keys), 1), PAGE):
            self.pages += 1
            yield [Listed(key + 5_000_000, key) for key in keys[start : start + PAGE]]

    async def record(self, campaign: str, customer_id: int) -> Listed | None:
        self.asked.append(customer_id)
        if customer_id in self._held(campaign):
            return Listed(customer_id + 5_000_000, customer_id, "NO_CALL")
        return None


def settle(
    journal: Journal, campaign: str, ids: Sequence[int], state: State, lost: bool = False
) -> None:
    journal.record_groups([OutcomeGroup(campaign, list(ids), state, 1.0, answer_lost=lost)])


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """00001: 1-60 removed, 61-70 not found, 71-75 in a call, 76-80 failed, 81-90 pending;
    00002: 1-5 removed."""
    with Journal.create(tmp_path / "j.sqlite", SETTINGS) as j:
        j.add_pending([("00001", range(1, 91)), ("00002", range(1, 6))])
        settle(j, "00001", range(1, 61), "removed")
        settle(j, "00001", range(61, 71), "not_found")
        settle(j, "00001", range(71, 76), "in_call")
        settle(j, "00001", range(76, 81), "failed", lost=True)
        settle(j, "00002", range(1, 6), "removed")
        yield j


def truthful() -> ScriptedApi:
    """The campaigns as the journal says they are, with records it never touched beside."""
    return ScriptedApi({"00001": {*range(71, 91), *range(1000, 1100)}, "00002": {99}})


# --- the rules --------------------------------------------------------------------------------


def test_removed_and_not_found_must_be_absent_in_call_and_failed_present() -> None:
    assert [expects_present(state) for state in DECIDED] == [False, False, True, True]
    with pytest.raises(ValueError, match="not checked"):
        expects_present("pending")


@pytest.mark.parametrize("state", DECIDED)
@pytest.mark.parametrize("present", [True, False])
def test_a_finding_agrees_when_presence_is_what_the_state_expects(
    state: State, present: bool
) -> None:
    finding = Finding("00001", 7, state, Seen(present, "record 9 TO_CALL") if present else ABSENT)
    assert finding.agrees == (present == expects_present(state))


def test_a_disagreement_says_key_state_and_what_the_api_said() -> None:
    back = Finding("00001", 7, "removed", seen([Listed(5000007, 7, "TO_CALL")]))
    assert back.line("customer 7") == (
        "00001 customer 7: the journal says removed, the API has it (record 5000007 TO_CALL)"
    )
    gone = Finding("00001", 8, "failed", ABSENT, answer_lost=True)
    assert gone.line("customer 8").startswith(
        "00001 customer 8: the journal says failed, the API has no such record (an attempt's"
    )


def test_several_records_of_one_key_are_all_shown() -> None:
    assert seen([Listed(1, "48500", None), Listed(2, "48500", "NO_CALL")]).detail == (
        "records 1, 2 NO_CALL"
    )


# --- the sample -------------------------------------------------------------------------------


@given(st.integers(0, 5000), st.integers(0, 6000), st.integers(0, 2**32 - 1))
def test_a_sample_is_sorted_distinct_in_range_and_repeats_with_its_seed(
    total: int, size: int, seed: int
) -> None:
    drawn = positions(total, size, seed)
    assert len(drawn) == min(size, total)
    assert drawn == sorted(set(drawn))
    assert all(0 <= p < total for p in drawn)
    assert drawn == positions(total, size, seed)


def test_another_seed_draws_another_sample() -> None:
    assert positions(10_000, 50, 1) != positions(10_000, 50, 2)


@given(st.lists(st.integers(0, 199), unique=True))
def test_pick_takes_exactly_the_items_at_the_positions(wanted: list[int]) -> None:
    wanted.sort()
    items = [f"item {i}" for i in range(200)]
    assert pick(iter(items), wanted) == [items[i] for i in wanted]


# --- the way of asking ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "records", "way"),
    [(1, 0, "record"), (2, 0, "listing"), (5, 10_000, "record"), (100, 10_000, "record"),
     (101, 10_000, "listing"), (101, 10_001, "record"), (1000, 250, "listing")],
)  # fmt: skip
def test_the_cheaper_way_is_the_one_with_fewer_requests(keys: int, records: int, way: str) -> None:
    assert cheaper_way(keys, records) == way


def test_a_journal_names_its_kind_and_an_unknown_one_is_refused() -> None:
    assert checked_kind({}, "j.sqlite") is CUSTOMER_ID
    assert checked_kind({"target": "customer_id"}, "j.sqlite") is CUSTOMER_ID
    with pytest.raises(JournalError, match=r"j\.sqlite: its target .fax. cannot be verified"):
        checked_kind({"target": "fax"}, "j.sqlite")


# --- a verification ---------------------------------------------------------------------------


async def test_a_true_journal_agrees_everywhere_and_pending_is_not_checked(
    journal: Journal,
) -> None:
    found = await verify(journal, truthful(), CUSTOMER_ID, sample=None)
    assert (found.checked, found.agree, found.disagree) == (85, 85, 0)
    assert (found.decided, found.pending) == (85, 10)
    assert found.ways == {"00001": "listing", "00002": "listing"}
    assert found.exit_code == EXIT_OK
    assert found.seed is None


async def test_records_back_behind_the_journal_and_records_gone_are_disagreements(
    journal: Journal,
) -> None:
    api = truthful()
    api.campaigns["00001"] |= {3, 65}  # removed, not found: back again
    api.campaigns["00001"] -= {72, 77}  # in a call, failed: gone
    found = await verify(journal, api, CUSTOMER_ID, sample=None)
    assert found.disagree == 4
    assert found.exit_code == EXIT_DISAGREE
    assert [(f.key, f.state) for f in found.disagreements] == [
        (3, "removed"), (65, "not_found"), (72, "in_call"), (77, "failed")
    ]  # fmt: skip
    lines = found.lines()
    assert lines[0] == (
        "disagree: 00001 customer 3: the journal says removed, the API has it "
        "(record 5000003 TO_CALL)"
    )
    assert "verified: checked 85, agree 81, disagree 4" in lines


async def test_a_sample_repeats_with_its_seed_and_asks_one_get_per_record(
    journal: Journal,
) -> None:
    big = {"00001": {*range(71, 91), *range(10_000, 30_000)}, "00002": set(range(100, 20_000))}
    first, again, other = ScriptedApi(dict(big)), ScriptedApi(dict(big)), ScriptedApi(dict(big))
    one = await verify(journal, first, CUSTOMER_ID, sample=20, seed=42)
    two = await verify(journal, again, CUSTOMER_ID, sample=20, seed=42)
    await verify(journal, other, CUSTOMER_ID, sample=20, seed=43)
    assert one.seed == two.seed == 42
    assert one.checked == 20 and one.disagree == 0
    assert sorted(first.asked) == sorted(again.asked) != sorted(other.asked)
    assert len(first.asked) == 20 and first.pages == 0
    assert set(one.ways.values()) == {"record"}


async def test_a_sample_of_a_small_campaign_lists_it_instead(journal: Journal) -> None:
    api = truthful()  # 00001 holds 120 records: two pages against up to 80 GETs
    found = await verify(journal, api, CUSTOMER_ID, sample=85, seed=1)
    assert found.ways["00001"] == "listing"
    assert api.asked.count(1) == 0 and api.pages == 3  # 00001 in two pages, 00002 in one
    assert found.checked == 85 and found.disagree == 0


async def test_a_sample_without_a_seed_draws_one_and_says_it(journal: Journal) -> None:
    found = await verify(journal, truthful(), CUSTOMER_ID, sample=3)
    assert isinstance(found.seed, int)
    assert f"--seed {found.seed} checks the same records" in "\n".join(found.lines())


async def test_an_unknown_campaign_is_refused_before_any_single_get(journal: Journal) -> None:
    api = ScriptedApi({"00001": set(range(71, 91))})
    with pytest.raises(CampaignNotFoundError):
        await verify(journal, api, CUSTOMER_ID, sample=1000, seed=1)


async def test_a_kind_without_a_single_get_is_always_listed(journal: Journal) -> None:
    # keys listed as text, as phone numbers are
    textual = dataclasses.replace(CUSTOMER_ID, listed_value=str, label="number", single_get=False)
    api = ScriptedApi({"00001": set(range(71, 76)), "00002": {1}})
    found = await verify(journal, api, textual, sample=3, seed=5)
    assert api.counts == 0 and api.asked == [] and api.pages == len(found.ways)
    assert set(found.ways.values()) == {"listing"}
    whole = await verify(journal, api, textual, sample=None)
    assert [(f.campaign, f.key) for f in whole.disagreements] == [
        ("00001", 76), ("00001", 77), ("00001", 78), ("00001", 79), ("00001", 80), ("00002", 1)
    ]  # fmt: skip
    assert whole.lines()[5] == (
        "disagree: 00002 number 1: the journal says removed, the API has it "
        "(record 5000001 TO_CALL)"
    )
    record(journal, whole)
    assert journal.disagreements(1) == [("00001", "76", "failed", "the API has no such record")]


async def test_the_findings_go_into_the_journal_and_its_report(journal: Journal) -> None:
    api = truthful()
    api.campaigns["00002"] |= {2}
    found = await verify(journal, api, CUSTOMER_ID, sample=None, clock=lambda: 1234.5)
    record(journal, found)
    section = build_report(journal, "j.sqlite")["verified"]
    assert section["checked"] == 85 and section["disagree"] == 1 and section["mode"] == "all"
    assert section["at"] == 1234.5
    assert section["disagreements"] == [
        {"campaign": "00002", "key": 2, "state": "removed",
         "api": "the API has it (record 5000002 TO_CALL)"}
    ]  # fmt: skip
    # the next verification replaces the last one whole
    record(journal, await verify(journal, truthful(), CUSTOMER_ID, sample=None))
    assert journal.disagreements() == []
    assert journal.get_meta("verified")["disagree"] == 0
    assert journal.counts()["00001"]["removed"] == 60  # the records themselves are untouched


def test_a_journal_never_verified_has_no_section(journal: Journal) -> None:
    assert build_report(journal, "j.sqlite")["verified"] is None


def test_figures_say_how_the_sample_was_drawn() -> None:
    found = Verification(CUSTOMER_ID, 10, 9, 50, 3, 10, 77, {"00001": "record"})
    assert found.figures() == {
        "checked": 10, "agree": 9, "disagree": 1, "decided": 50, "not_checked_pending": 3,
        "mode": "sample", "sample": 10, "seed": 77, "ways": {"00001": "record"}, "at": 0.0,
    }  # fmt: skip
    assert found.lines()[1:] == [
        "checked: a sample of 10 of 50 decided records, seed 77 (--seed 77 checks the same "
        "records)",
        "asked by: 00001 one GET per record",
        "not checked: 3 pending records (never answered)",
    ]


# --- run --verify -----------------------------------------------------------------------------


def contradicting() -> ScriptedApi:
    return ScriptedApi({"00001": {1}, "00002": set()})


class Refusing(ScriptedApi):
    async def count(self, campaign: str, kind: Kind) -> int:
        raise AuthenticationError("bad credentials", status=401)

    async def listing(self, campaign: str, kind: Kind) -> AsyncIterator[Sequence[Listed]]:
        raise AuthenticationError("bad credentials", status=401)
        yield []


@pytest.mark.parametrize(
    ("api", "run_code", "code"),
    [(truthful, 0, 0), (truthful, 4, 4), (contradicting, 0, 7), (contradicting, 4, 4),
     (lambda: Refusing({}), 0, 3), (lambda: Refusing({}), 4, 4)],
)  # fmt: skip
async def test_a_run_keeps_its_code_unless_it_was_clean(
    journal: Journal, api: Callable[[], ScriptedApi], run_code: int, code: int
) -> None:
    path = str(journal.path)
    journal.close()
    settings = Settings(base_url="https://x.example/api", username="u", password="p")
    ran = JobResult({"journal": path, "state": "finished", "exit_code": run_code}, run_code)
    after = await verified_run(settings, ran, source=api())
    assert after.exit_code == after.report["exit_code"] == code
    assert (after.error is not None) == isinstance(api(), Refusing)
    assert (after.verification is None) == isinstance(api(), Refusing)
    with Journal.open(path) as reopened:
        assert reopened.get_meta("exit_code") == (None if code == run_code else code)
        assert after.report["verified"] == build_report(reopened, path)["verified"]
