"""The command line's grammar: help for every option, and a flag of ``run`` for every setting."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from bulkremove.cli import build_parser
from bulkremove.errors import ConfigError
from bulkremove.settings import TABLE, load_settings


def parsers(
    parser: argparse.ArgumentParser, name: str = "bulkremove"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                yield from parsers(sub, f"{name} {command}")


def test_every_command_and_option_has_help_text() -> None:
    for name, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions if choice.help}
                assert helped == set(action.choices), f"{name}: a command without help"
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def run_flags(*argv: str) -> dict[str, object]:
    args = build_parser().parse_args(["run", *argv])
    return {name: getattr(args, name) for name in TABLE}


def test_every_setting_is_a_flag_of_run_and_absent_flags_are_none() -> None:
    assert set(run_flags().values()) == {None}
    for name, row in TABLE.items():
        if row.secret:
            continue
        if row.rule.kind is bool:
            given = run_flags(row.flag)
        else:
            value = row.rule.choices[-1] if row.rule.choices else "7"
            given = run_flags(row.flag, value)
        assert given[name] is not None, row.flag
        assert [key for key, value in given.items() if value is not None] == [name]


def test_flags_go_through_the_settings_checks() -> None:
    settings, _ = load_settings(
        run_flags("--no-verify-tls", "--no-adaptive", "--journal-dir", "d", "-y"), {}
    )
    assert (settings.verify_tls, settings.adaptive, settings.journal_dir) == (False, False, "d")
    assert settings.assume_yes is True
    assert settings.sources["assume_yes"] == "flag --yes"
    assert settings.sources["verify_tls"] == "flag --verify-tls"
    with pytest.raises(ConfigError, match=r"rate_burst = 0 \(from flag --rate-burst\)"):
        load_settings(run_flags("--rate-burst", "0"), {})


def test_the_password_flag_is_hidden_and_refused_by_name() -> None:
    parser = build_parser()
    run = dict(parsers(parser))["bulkremove run"]
    assert "--password " not in run.format_help()
    with pytest.raises(ConfigError, match="cannot be given as a flag"):
        load_settings(run_flags("--password", "hunter2"), {})
