from __future__ import annotations

import os
from pathlib import Path

import pytest

from bulkremove.errors import ConfigError
from bulkremove.settings import KEYS, Settings, load_settings, require_api

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


def test_example_config_documents_every_key_with_its_default() -> None:
    import tomllib

    text = (ROOT / "config.example.toml").read_text()
    for key in KEYS:
        assert f"\n# {key} = " in f"\n{text}" or f"\n{key} = " in f"\n{text}", key
    # Uncommented, the example's values are the defaults and load cleanly.
    uncommented = "\n".join(
        line[2:] for line in text.splitlines() if line.startswith("# ") and " = " in line
    )
    data = tomllib.loads(uncommented)
    defaults = Settings()
    assert set(data) == set(KEYS)
    for key, value in data.items():
        if "No default." not in text.split(f"# {key} = ")[0].rsplit("\n", 2)[-2]:
            assert getattr(defaults, key) == value, key
