from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

import pytest

from bulkremove.errors import ConfigError
from bulkremove.settings import (
    ENV_PREFIX,
    KEYS,
    TABLE,
    Settings,
    load_settings,
    require_api,
    stored_layer,
    with_stored,
)

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str, mode: int = 0o600) -> str:
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_defaults() -> None:
    settings, warnings = load_settings({}, {})
    assert settings == Settings()
    assert settings.concurrency == 8 and settings.rate == 10.0
    assert settings.max_url_length == 8000 and settings.max_ids_per_request == 500
    assert settings.call_retry_timeout == 900.0 and settings.max_attempts == 8
    assert warnings == []


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "concurrency = 3\nrate = 4.5\nmax_attempts = 2\n")
    env = {"BULKREMOVE_RATE": "7", "BULKREMOVE_MAX_ATTEMPTS": "5"}
    settings, _ = load_settings({"max_attempts": 9, "concurrency": None}, env, config)
    assert settings.concurrency == 3
    assert settings.sources["concurrency"] == f"{config}:concurrency"
    assert settings.rate == 7.0
    assert settings.sources["rate"] == "env BULKREMOVE_RATE"
    assert settings.max_attempts == 9
    assert settings.sources["max_attempts"] == "flag --max-attempts"
    assert settings.max_url_length == 8000
    assert "max_url_length" not in settings.sources


def test_config_path_from_environment(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", 'base_url = "https://acme.thulium.com/api/"\n')
    settings, _ = load_settings({}, {"BULKREMOVE_CONFIG": config})
    assert settings.base_url == "https://acme.thulium.com/api"


@pytest.mark.parametrize(
    ("flags", "env", "fragment"),
    [
        (
            {"concurrency": 0},
            {},
            "concurrency = 0 (from flag --concurrency) is invalid: "
            "must be an integer from 1 to 1024",
        ),
        ({}, {"BULKREMOVE_RATE": "fast"}, "rate = 'fast' (from env BULKREMOVE_RATE)"),
        ({}, {"BULKREMOVE_VERIFY_TLS": "maybe"}, "must be true or false"),
        ({"campaign": "1"}, {}, "five characters"),
        ({"base_url": "ftp://x/api"}, {}, "http(s) URL"),
        ({}, {"BULKREMOVE_LOG_FORMAT": "xml"}, "one of console, json"),
        ({"username": "a:b"}, {}, "username = 'a:b' (from flag --username) is invalid"),
    ],
)
def test_bad_values_name_key_source_and_rule(
    flags: dict[str, object], env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(flags, env)
    assert fragment in str(info.value)


def test_bad_file_value_names_file_and_key(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "max_url_length = 10\n")
    with pytest.raises(ConfigError, match=r"c\.toml:max_url_length\) is invalid"):
        load_settings({}, {}, config)


def test_unknown_keys_are_refused_with_a_hint(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "concurency = 3\n")
    with pytest.raises(ConfigError, match="did you mean 'concurrency'"):
        load_settings({}, {}, config)
    with pytest.raises(ConfigError, match="BULKREMOVE_RAT"):
        load_settings({}, {"BULKREMOVE_RAT": "1"})


def test_broken_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, {}, str(tmp_path / "nope.toml"))
    bad = write(tmp_path / "bad.toml", "rate = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, {}, bad)


def test_url_with_user_info_is_refused() -> None:
    with pytest.raises(ConfigError, match="without user info"):
        load_settings({"base_url": "https://u:secret@acme.thulium.com/api"}, {})


def test_password_never_from_a_flag_and_never_shown() -> None:
    with pytest.raises(ConfigError, match="cannot be given as a flag"):
        load_settings({"password": "hunter2"}, {})
    settings, _ = load_settings({}, {"BULKREMOVE_PASSWORD": "hunter2"})
    assert settings.password == "hunter2"
    assert "hunter2" not in repr(settings)
    assert "password" not in settings.public()


def test_password_file(tmp_path: Path) -> None:
    secret = write(tmp_path / "pw", "s3cret\n")
    settings, _ = load_settings({}, {"BULKREMOVE_PASSWORD_FILE": secret})
    assert settings.password == "s3cret"
    settings, _ = load_settings(
        {}, {"BULKREMOVE_PASSWORD_FILE": secret, "BULKREMOVE_PASSWORD": "x"}
    )
    assert settings.password == "x", "an explicit password wins over password_file"
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings({}, {"BULKREMOVE_PASSWORD_FILE": str(tmp_path / "none")})


def test_readable_config_with_password_warns(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", 'password = "x"\n', mode=0o644)
    _, warnings = load_settings({}, {}, config)
    assert any("readable by others" in w for w in warnings)
    os.chmod(config, 0o600)
    _, warnings = load_settings({}, {}, config)
    assert warnings == []


def test_verify_tls_off_warns() -> None:
    _, warnings = load_settings({}, {"BULKREMOVE_VERIFY_TLS": "false"})
    assert any("TLS verification is off" in w for w in warnings)


def test_relations_between_keys() -> None:
    with pytest.raises(ConfigError, match=r"call_retry_initial = 90 .* call_retry_max = 60"):
        load_settings({"call_retry_initial": 90}, {})


def test_require_api_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="no API root"):
        require_api(Settings())
    with pytest.raises(ConfigError, match="no API user"):
        require_api(Settings(base_url="http://h/api"))
    with pytest.raises(ConfigError, match="no password"):
        require_api(Settings(base_url="http://h/api", username="u"))


def test_the_table_is_the_dataclass() -> None:
    fields = [f.name for f in dataclasses.fields(Settings) if f.name != "sources"]
    assert list(KEYS) == fields
    defaults = Settings()
    for name, row in TABLE.items():
        assert row.name == name
        assert getattr(defaults, name) == row.default, name
        assert row.env == ENV_PREFIX + name.upper()
        assert row.help and row.rule.allowed, name
        assert row.flag.startswith("--"), name
    assert [row.name for row in TABLE.values() if row.secret] == ["password"]
    assert "hunter2" not in repr(Settings(password="hunter2"))


def test_every_key_is_read_from_its_environment_variable() -> None:
    for name, row in TABLE.items():
        if row.default in (None, "") or row.secret:
            continue
        settings, _ = load_settings({}, {row.env: str(row.default)})
        assert getattr(settings, name) == row.default, name
        assert settings.sources[name] == f"env {row.env}"


def test_example_config_lists_every_key_with_its_default_and_nothing_else() -> None:
    text = (ROOT / "config.example.toml").read_text()
    lines = text.splitlines()
    # Uncommented, the example's values load cleanly.
    settings_lines = [i for i, line in enumerate(lines) if line.startswith("# ") and " = " in line]
    data = tomllib.loads("\n".join(lines[i][2:] for i in settings_lines))
    assert list(data) == [key for key in data if key in TABLE], "unknown keys in the example"
    assert set(data) == set(KEYS), "keys missing from the example"
    for i in settings_lines:
        key = lines[i][2:].split(" = ")[0]
        row = TABLE[key]
        explained = lines[i - 1]
        assert explained.startswith("# ") and " = " not in explained, f"{key} has no comment"
        if row.default in (None, ""):
            assert "No default." in explained, key
        else:
            assert data[key] == row.default, key
    stored_layer(data)  # every example value passes its check


def test_stored_layer_checks_and_leaves_out_consent_secrets_and_unknown_keys() -> None:
    stored = {
        "rate": 3,
        "assume_yes": True,
        "password": "x",
        "gone_in_this_version": 1,
        "max_delete": None,
    }
    assert stored_layer(stored) == {"rate": 3.0}
    with pytest.raises(ConfigError, match=r"rate = 0 \(from the journal's settings\)"):
        stored_layer({"rate": 0})
    settings, _ = load_settings({"concurrency": 2}, {}, stored={"rate": 3, "concurrency": 5})
    assert (settings.rate, settings.concurrency, settings.assume_yes) == (3.0, 2, False)
    assert settings.sources["rate"] == "journal"


def test_with_stored_keeps_what_the_library_caller_chose() -> None:
    stored = {"rate": 3.0, "concurrency": 5, "max_attempts": 2, "assume_yes": True}
    mine, _ = load_settings({"max_attempts": 4}, {})
    merged = with_stored(Settings(concurrency=2, max_attempts=mine.max_attempts), stored)
    assert (merged.rate, merged.concurrency, merged.max_attempts) == (3.0, 2, 4)
    assert merged.assume_yes is False
    assert merged.sources == {"rate": "journal"}
    assert with_stored(mine, stored).max_attempts == 4, "a source marks a choice"
    assert with_stored(mine, {}) is mine


def test_the_job_name_defaults_to_the_config_files_name(tmp_path: Path) -> None:
    config = tmp_path / "nightly-eu.toml"
    config.write_text('base_url = "https://x.example/api"\n')
    settings, _ = load_settings({}, {}, str(config))
    assert settings.job == "nightly-eu"
    assert load_settings({}, {})[0].job == "bulkremove"
    named, _ = load_settings({"job_name": "purge"}, {}, str(config))
    assert named.job == "purge"
    from_env, _ = load_settings({}, {"BULKREMOVE_JOB_NAME": "eu"}, str(config))
    assert from_env.job == "eu"
