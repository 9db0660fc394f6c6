"""The settings of a resume: the caller's own over the journal's recorded ones (no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkremove.errors import ConfigError
from bulkremove.journal import Journal
from bulkremove.resume import resume_settings, stored_settings
from bulkremove.settings import Settings, load_settings


def journal_with(tmp_path: Path, recorded: Settings) -> str:
    path = str(tmp_path / "j.sqlite")
    Journal.create(path, recorded.public()).close()
    return path


def test_keys_left_alone_come_from_the_journal_and_consent_never_does(tmp_path: Path) -> None:
    recorded = Settings(base_url="https://a.example/api", campaign="00002", rate=3.0,
                        max_ids_per_request=25, assume_yes=True)  # fmt: skip
    path = journal_with(tmp_path, recorded)
    assert stored_settings(path)["campaign"] == "00002"

    mine = Settings(username="u", password="p", rate=7.0)
    merged = resume_settings(mine, path)
    assert (merged.base_url, merged.campaign, merged.max_ids_per_request) == (
        "https://a.example/api", "00002", 25,
    )  # fmt: skip
    assert merged.rate == 7.0  # the caller's own value wins
    assert (merged.username, merged.password) == ("u", "p")
    assert merged.assume_yes is False
    assert resume_settings(merged, path) == merged  # merging twice changes nothing


def test_a_key_given_at_its_default_value_is_still_the_callers(tmp_path: Path) -> None:
    path = journal_with(tmp_path, Settings(rate=3.0))
    mine, _ = load_settings({"rate": 10.0}, {})
    assert resume_settings(mine, path).rate == 10.0


def test_relations_are_checked_across_the_layers(tmp_path: Path) -> None:
    path = journal_with(tmp_path, Settings(call_retry_initial=5.0, call_retry_max=10.0))
    with pytest.raises(ConfigError, match="call_retry_initial"):
        resume_settings(Settings(call_retry_initial=20.0), path)
