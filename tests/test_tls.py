"""TLS against the sandbox serving https with a throwaway CA: trust, refusal, and its messages."""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import trustme
from e2e import PASSWORD, SandboxProcess, bulkremove, env, run_cli, sandbox, write_ids

from bulkremove.client import Client
from bulkremove.errors import FatalApiError, TlsError
from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig
from bulkremove.settings import Settings

pytestmark = pytest.mark.timeout(60)

HEADER = base64.b64encode(f"api_user:{PASSWORD}".encode()).decode()


def yes_env(**extra: str) -> dict[str, str]:
    """The user's environment, consenting ahead to runs (there is no terminal to ask on)."""
    return env(BULKREMOVE_ASSUME_YES="true", **extra)


@dataclass(frozen=True)
class Pki:
    ca: Path
    """The CA's certificate (PEM): what ca_bundle points at."""
    chain: Path
    """Key and certificate chain for 127.0.0.1 and localhost, in one PEM file."""
    cert: Path
    key: Path
    """The same certificate and key in two files."""
    wrong_host: Path
    """Valid, from the same CA, but for another host."""
    expired: Path
    """For 127.0.0.1, from the same CA, but expired."""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(root / "chain.pem"))
    leaf.private_key_pem.write_to_path(str(root / "key.pem"))
    for n, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(str(root / "cert.pem"), append=n > 0)
    other = ca.issue_cert("api.example.test")
    other.private_key_and_cert_chain_pem.write_to_path(str(root / "other.pem"))
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    old = ca.issue_cert("127.0.0.1", not_before=past, not_after=past + datetime.timedelta(days=1))
    old.private_key_and_cert_chain_pem.write_to_path(str(root / "expired.pem"))
    return Pki(
        root / "ca.pem",
        root / "chain.pem",
        root / "cert.pem",
        root / "key.pem",
        root / "other.pem",
        root / "expired.pem",
    )


def config(cert: Path, key: Path | None = None) -> SandboxConfig:
    return SandboxConfig(
        port=0,
        campaigns=(RangeSeed("00001", 1, 100),),
        tls_cert=str(cert),
        tls_key=str(key) if key else None,
    )


def settings(server: Sandbox, **changes: Any) -> Settings:
    base = Settings(base_url=server.base_url, username="api_user", password=PASSWORD)
    return replace(base, **changes)


# --- the client ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_ca_bundle_makes_the_sandbox_trusted(pki: Pki) -> None:
    async with Sandbox(config(pki.cert, pki.key)) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        async with Client(settings(server, ca_bundle=str(pki.ca))) as client:
            outcomes = await client.delete_batch("00001", [1, 2])
        assert [o.status for o in outcomes] == ["REMOVED", "REMOVED"]
        assert server.state.remaining()["00001"] == 98


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("chain", "unable to get local issuer certificate"),  # no ca_bundle: issuer unknown
        ("wrong_host", "mismatch"),
        ("expired", "expired"),
    ],
)
async def test_refused_certificate_is_a_fatal_tls_error(pki: Pki, which: str, reason: str) -> None:
    bundle = None if which == "chain" else str(pki.ca)
    async with Sandbox(config(getattr(pki, which))) as server:
        async with Client(settings(server, ca_bundle=bundle)) as client:
            with pytest.raises(TlsError) as info:
                await client.delete_batch("00001", [1])
        assert server.stats.requests == 0, "nothing got past the handshake"
        assert server.state.remaining()["00001"] == 100
    error = info.value
    assert isinstance(error, FatalApiError)
    message = str(error)
    assert "TLS certificate" in message
    assert reason in message
    assert ("ca_bundle" in message) is (which == "chain"), "the hint only where it helps"
    assert "\n" not in message
    for secret in (PASSWORD, HEADER, "Authorization"):
        assert secret not in message
        assert secret not in repr(error)


@pytest.mark.anyio
async def test_verify_tls_off_accepts_an_untrusted_certificate(pki: Pki) -> None:
    async with Sandbox(config(pki.wrong_host)) as server:
        async with Client(settings(server, verify_tls=False)) as client:
            outcomes = await client.delete_batch("00001", [5])
        assert [o.status for o in outcomes] == ["REMOVED"]


@pytest.mark.anyio
async def test_https_to_a_plain_http_server_is_a_tls_error() -> None:
    async with Sandbox(SandboxConfig(port=0, campaigns=(RangeSeed("00001", 1, 10),))) as server:
        assert server.base_url.startswith("http://")
        wrong = server.base_url.replace("http://", "https://", 1)
        base = Settings(base_url=wrong, username="api_user", password=PASSWORD)
        async with Client(base) as client:
            with pytest.raises(TlsError, match="TLS failure") as info:
                await client.delete_batch("00001", [1])
        assert PASSWORD not in str(info.value)
        assert server.state.remaining()["00001"] == 10


def test_sandbox_tls_settings_are_checked(pki: Pki) -> None:
    with pytest.raises(ValueError, match="tls_key needs tls_cert"):
        SandboxConfig(tls_key=str(pki.key))


# --- the command line ----------------------------------------------------------------------


def trusted_stats(server: SandboxProcess, ca: Path) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen(server.root + "/_sandbox/stats", context=context) as answer:
        stats: dict[str, Any] = json.loads(answer.read())
    return stats


FAST = ["--rate", "500"]


def test_cli_run_over_https(pki: Pki, tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 301))
    with sandbox(
        "--campaign", "00001=1-300", "--tls-cert", str(pki.cert), "--tls-key", str(pki.key)
    ) as server:  # fmt: skip
        assert server.base_url.startswith("https://")
        refused = run_cli(
            server, ids, *FAST, cwd=tmp_path, journal="refused.sqlite", environ=yes_env()
        )
        after_refusal = trusted_stats(server, pki.ca)
        trusted = run_cli(
            server, ids, *FAST,
            cwd=tmp_path, journal="trusted.sqlite",
            environ=yes_env(BULKREMOVE_CA_BUNDLE=str(pki.ca)),
        )  # fmt: skip
        unverified = run_cli(
            server, write_ids(tmp_path / "more.txt", range(1, 11)), *FAST,
            cwd=tmp_path, journal="unverified.sqlite",
            environ=yes_env(BULKREMOVE_VERIFY_TLS="false"),
        )  # fmt: skip
        stats = trusted_stats(server, pki.ca)

    assert refused.returncode == 3, refused.stderr
    assert "Traceback" not in refused.stderr
    tls_lines = [
        line for line in refused.stderr.splitlines() if "error: aborted: TLS certificate" in line
    ]
    assert len(tls_lines) == 1, refused.stderr
    assert "unable to get local issuer certificate" in tls_lines[0]
    assert after_refusal["requests"] == 0
    assert after_refusal["remaining"]["00001"] == 300

    assert trusted.returncode == 0, trusted.stderr
    assert "TLS verification is off" not in trusted.stderr
    assert stats["remaining"]["00001"] == 0

    assert unverified.returncode == 0, unverified.stderr
    assert "TLS verification is off" in unverified.stderr

    for done in (refused, trusted, unverified):
        for secret in (PASSWORD, HEADER):
            assert secret not in done.stdout + done.stderr


def test_cli_sandbox_refuses_an_unreadable_certificate(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for path in (missing, junk):
        done = bulkremove(["sandbox", "--port", "0", "--tls-cert", str(path)], cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert f"cannot load TLS certificate {path}" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "listening" not in done.stdout


# --- credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["report", "--help"], ["export", "--help"]]
)
def test_help_never_shows_the_password_from_the_environment(
    args: list[str], tmp_path: Path
) -> None:
    secret = "Env-Secret-9f2c"
    done = bulkremove(
        args,
        cwd=tmp_path,
        environ=env(BULKREMOVE_PASSWORD=secret, BULKREMOVE_PASSWORD_FILE=str(tmp_path / "pw")),
    )
    assert done.returncode == 0, done.stderr
    assert "usage: bulkremove" in done.stdout
    assert secret not in done.stdout + done.stderr
