"""Hostile input never reaches a URL: input files, campaign ids, and the client's last gate."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import pytest
from e2e import SandboxProcess, bulkremove, env, run_cli, sandbox, write_ids
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bulkremove.client import Client
from bulkremove.errors import ConfigError, InputError
from bulkremove.ids import check_campaign_id, is_campaign_id, parse_customer_id
from bulkremove.ingest import InputReader, blocks, problems
from bulkremove.kinds import MAX_CUSTOMER_ID
from bulkremove.settings import Settings, load_settings

pytestmark = pytest.mark.timeout(120)

CAMPAIGN = re.compile(r"[0-9A-Za-z]{5}", re.ASCII)
BOM = b"\xef\xbb\xbf"
LONG = b"7" * (blocks.MAX_LINE + 100)


def yes_env(**extra: str) -> dict[str, str]:
    """The user's environment, consenting ahead to runs (there is no terminal to ask on)."""
    return env(BULKREMOVE_ASSUME_YES="true", **extra)


# Digits that str.isdigit() and int() accept but that are not ASCII: Arabic-Indic and fullwidth.
AR_3, AR_007, FW_1, FW_12, FW_000 = (
    "\u0663",
    "\u0660\u0660\u0667",
    "\uff11",
    "\uff11\uff12",
    "\uff10" * 3,
)

HOSTILE_TEXT = [
    AR_3, FW_1, FW_12, AR_007, "+5", "-5", "+0", "\u22125", "5e3", "0x10", "1_000", "1.0", "1,000",
    "9" * 18, "9" * 19, "1" + "0" * 18, "0" * 30 + "7", "9" * 40, "0", "000",
    "\x00", "5\x006", "\r", "1\r2", "%", "%35", "5%26customer_id%5B%5D=6", "&",
    "5&customer_id[]=6", "/", "../x", "..", "5/../6", "?", "#", "=", ";", ",", '"', "\x1b[2J",
    "\u2028", "\u00a0", "\ufeff", "\u3000", " ", "\t", "\x0b", "\x0c", "\x85", "7",
]  # fmt: skip
HOSTILE_BYTES = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", BOM, b"\x80", LONG, b"\n"]
HOSTILE_CAMPAIGNS = [
    "../x", "00001&customer_id[]=5", "0000/", "00001 ", " 00001", FW_000 + "01", "0000\u0661",
    "", "00001", "AbC12", "00%01", "..\\..", "0000\x00", "0000\n", "00001/../../x", "000001",
    "0001", "%2e%2e/", "ǅ0001", "0000ß", "00\u200b01", "00001?", "00001#",
]  # fmt: skip

fragment = st.one_of(
    st.sampled_from([t.encode() for t in HOSTILE_TEXT] + HOSTILE_BYTES),
    st.integers(0, 10**20).map(lambda n: str(n).encode()),
    st.text(max_size=4).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=4),
)
line = st.lists(fragment, max_size=5).map(b"".join)


def expected_text(data: bytes, max_line: int) -> tuple[list[int], list[int], int]:
    """Ids, numbers of the invalid lines, and the line count a text file must give."""
    data = data.removeprefix(BOM)
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    ids: list[int] = []
    invalid: list[int] = []
    for number, raw in enumerate(lines, 1):
        if len(raw) > max_line:
            if not raw[: max_line + 1].strip(b" \t\r").startswith(b"#"):
                invalid.append(number)
            continue
        text = raw.strip(b" \t\r")
        if not text or text.startswith(b"#"):
            continue
        if re.fullmatch(rb"[0-9]{1,18}", text) and int(text) > 0:
            ids.append(int(text))
        else:
            invalid.append(number)
    return ids, invalid, len(lines)


def check_invalid_lines(reader: InputReader, name: str) -> None:
    """Every rejected line names its file and line, on one printable line."""
    stats = reader.stats
    assert len(stats.first_invalid) == min(stats.invalid, problems.MAX_SHOWN)
    for bad in stats.first_invalid:
        assert bad.source == name
        assert 1 <= bad.line <= max(stats.lines, 1)
        shown = str(bad)
        assert shown.startswith(f"{name}:{bad.line}: ")
        assert shown.isprintable(), shown
    if stats.invalid:
        with pytest.raises(InputError) as info:
            stats.check()
        for text in str(info.value).splitlines():
            assert text.startswith(f"{name}:") or text.startswith("... and ")
    else:
        stats.check()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, max_size=12),
    end=st.sampled_from([b"", b"\n", b"\r\n"]),
    block=st.sampled_from([5, 64, 1 << 20]),
)
@example(lines=[AR_3.encode(), FW_1.encode(), b"+5", b"5%26x", b"../x", b"\x00", b"1\r2"],
         end=b"\n", block=1 << 20)  # fmt: skip
@example(lines=[LONG, b"#" + LONG, b"12", b"9" * 19], end=b"", block=64)
def test_text_input_yields_only_valid_ids_and_names_every_bad_line(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], end: bytes, block: int
) -> None:
    path = tmp_path_factory.mktemp("hostile") / "ids.txt"
    data = b"\n".join(lines) + end
    path.write_bytes(data)
    with mock.patch.object(blocks, "BLOCK_SIZE", block):
        reader = InputReader([str(path)], "00001")
        batches = list(reader)
    ids = [i for _, chunk in batches for i in chunk]
    assert all(campaign == "00001" for campaign, _ in batches)
    assert all(type(i) is int and 0 < i <= MAX_CUSTOMER_ID for i in ids)
    want_ids, want_invalid, want_lines = expected_text(data, blocks.MAX_LINE)
    assert ids == want_ids
    assert reader.stats.invalid == len(want_invalid)
    assert [bad.line for bad in reader.stats.first_invalid] == want_invalid[: problems.MAX_SHOWN]
    assert reader.stats.lines == want_lines
    check_invalid_lines(reader, str(path))


HEADERS = [
    b"customer_id,campaign_id", b"campaign_id;customer_id", b"customer_id", b"id,campaign",
    b"campaign_id", b"", BOM + b"customer_id\tcampaign_id", b'"customer_id","campaign_id"',
    b"customer_id,customer_id,campaign_id", b"CUSTOMER_ID , Campaign_ID", b'"customer_id,x',
    b"customer_id\x00,campaign_id", b"\xffcustomer_id,campaign_id",
]  # fmt: skip
cell = st.one_of(line, st.sampled_from([c.encode() for c in HOSTILE_CAMPAIGNS]))
row = st.lists(cell, min_size=0, max_size=3).flatmap(
    lambda cells: st.sampled_from([b",", b";", b"\t"]).map(lambda sep: sep.join(cells))
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from(HEADERS),
    rows=st.lists(row, max_size=10),
    default=st.sampled_from([None, "00001"]),
    block=st.sampled_from([5, 1 << 20]),
)
@example(header=HEADERS[0], rows=[b"1,../x", b"2,00001&customer_id[]=5", b"3,"], default=None,
         block=1 << 20)  # fmt: skip
def test_csv_input_yields_only_valid_ids_and_campaigns(
    tmp_path_factory: pytest.TempPathFactory,
    header: bytes,
    rows: list[bytes],
    default: str | None,
    block: int,
) -> None:
    path = tmp_path_factory.mktemp("hostile") / "ids.csv"
    data = b"\n".join([header, *rows]) + b"\n"
    path.write_bytes(data)
    with mock.patch.object(blocks, "BLOCK_SIZE", block):
        reader = InputReader([str(path)], default)
        batches = list(reader)
    for campaign, ids in batches:
        assert CAMPAIGN.fullmatch(campaign), campaign
        assert campaign == default or campaign.encode() in data
        for customer_id in ids:
            assert type(customer_id) is int and 0 < customer_id <= MAX_CUSTOMER_ID
            written = rb"(?<![0-9])0*" + str(customer_id).encode() + rb"(?![0-9])"
            assert re.search(written, data), customer_id
    assert reader.stats.ids == sum(len(ids) for _, ids in batches)
    if b"customer_id" not in header.lower():
        assert batches == []
        assert [bad.line for bad in reader.stats.first_invalid][:1] == [1]
    check_invalid_lines(reader, str(path))


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.sampled_from(HOSTILE_CAMPAIGNS), st.text(max_size=8)))
def test_a_campaign_id_is_five_ascii_alphanumerics_or_refused(text: str) -> None:
    strict = CAMPAIGN.fullmatch(text) is not None
    assert is_campaign_id(text) is strict
    if not strict:
        with pytest.raises(ValueError, match="campaign id"):
            check_campaign_id(text)

    # Settings trim the value first; what is left must be strict.
    trimmed = CAMPAIGN.fullmatch(text.strip()) is not None
    for flags, environ in [({"campaign": text}, {}), ({}, {"BULKREMOVE_CAMPAIGN": text})]:
        if trimmed:
            loaded, _ = load_settings(flags, environ)
            assert loaded.campaign == text.strip()
        else:
            with pytest.raises(ConfigError, match=r"\Acampaign = [^\n]*\Z"):
                load_settings(flags, environ)

    client = Client(Settings(base_url="http://127.0.0.1:9/api", username="u", password="p"))
    if strict:
        InputReader(["ids.txt"], text)
        assert client.path(text) == f"/api/batch/crm_outbounds/{text}/records"
    else:
        with pytest.raises(ConfigError, match="campaign"):
            InputReader(["ids.txt"], text)
        with pytest.raises(InputError, match=r"\Arefusing to send campaign id [^\n]*\Z"):
            client.path(text)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=25), st.binary(max_size=25), st.sampled_from(HOSTILE_TEXT)))
def test_a_customer_id_is_ascii_digits_or_none(text: str | bytes) -> None:
    value = parse_customer_id(text)
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if re.fullmatch(rb"[0-9]{1,18}", raw) and int(raw) > 0:
        assert value == int(raw)
    else:
        assert value is None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-(10**20), 10**20),
            st.integers(1, 10**6),
            st.sampled_from(
                [True, False, 1.0, 2.5, "7", "7&customer_id[]=8", None, 10**18, 10**18 - 1, 0]
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_client_sends_only_customer_ids_in_range(ids: list[object]) -> None:
    client = Client(Settings(base_url="http://127.0.0.1:9/api", username="u", password="p"))
    if all(type(i) is int and 0 < i <= MAX_CUSTOMER_ID for i in ids):
        url = client.url("00001", ids)  # type: ignore[arg-type]
        query = "&".join(f"customer_id%5B%5D={i}" for i in ids)
        assert url.raw_path_qs == f"/api/batch/crm_outbounds/00001/records?{query}"
    else:
        with pytest.raises(InputError, match="refusing to send customer id "):
            client.url("00001", ids)  # type: ignore[arg-type]


# --- the command line ----------------------------------------------------------------------


def error_lines(stderr: str) -> list[str]:
    """The error message of a refused run: from 'bulkremove: error:' to the end."""
    lines = stderr.splitlines()
    starts = [n for n, text in enumerate(lines) if text.startswith("bulkremove: error: ")]
    assert len(starts) == 1, stderr
    return lines[starts[0] :]


def refused(
    server: SandboxProcess, tmp_path: Path, runs: list[tuple[list[str], dict[str, str]]]
) -> list[list[str]]:
    """Run each (args, environment) at once; each must exit 2 with a clean message, no journal."""

    def one(number: int) -> subprocess.CompletedProcess[str]:
        args, environ = runs[number]
        journal = ["--journal", f"j{number}.sqlite"]
        return bulkremove(
            ["run", "--base-url", server.base_url, *journal, *args],
            cwd=tmp_path,
            environ=yes_env(**environ),
        )

    with ThreadPoolExecutor(len(runs)) as pool:
        done = list(pool.map(one, range(len(runs))))
    for result in done:
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert all(ch == "\n" or ch.isprintable() for ch in result.stderr), repr(result.stderr)
    assert not list(tmp_path.glob("j*.sqlite*"))
    return [error_lines(result.stderr) for result in done]


def test_cli_refuses_hostile_input_and_sends_nothing(tmp_path: Path) -> None:
    text = tmp_path / "ids.txt"
    text.write_bytes(
        f"1\n{AR_3}\n{FW_12}\n+5\n5%26customer_id%5B%5D=6\n5&customer_id[]=6\n../x\n"
        "1\r2\n\x1b[2J\n".encode()
        + b"\x00\n\xff\xfe\n"
        + LONG
        + b"\n"
        + b"9" * 19
        + b"\n"
    )
    one_bad = tmp_path / "one.txt"
    one_bad.write_bytes(b"1\n2\n5/../6\n4\n")
    csv = tmp_path / "ids.csv"
    csv.write_text(
        "customer_id,campaign_id\n1,00001\n2,../x\n3,00001&customer_id[]=5\n4,0000\x1b\n"
    )
    with sandbox() as server:
        many, one, columns, flag, unicode, environ = refused(
            server,
            tmp_path,
            [
                (["--campaign", "00001", "--input", "ids.txt"], {}),
                (["--campaign", "00001", "--input", "one.txt"], {}),
                (["--input", "ids.csv"], {}),
                (["--campaign", "00001&customer_id[]=5", "--input", "ids.txt"], {}),
                (["--campaign", FW_000 + "01", "--input", "one.txt"], {}),
                (["--input", "one.txt"], {"BULKREMOVE_CAMPAIGN": "../x\n"}),
            ],
        )
        stats = server.stats()
    assert stats["requests"] == 0
    assert stats["remaining"]["00001"] == 100_000

    assert many[0].startswith(f"bulkremove: error: ids.txt:2: '{AR_3}': ")
    numbers = [re.match(r"(?:bulkremove: error: )?ids\.txt:(\d+): ", x) for x in many[:10]]
    assert [m[1] if m else None for m in numbers] == [str(n) for n in range(2, 12)]
    assert many[10] == "... and 2 more invalid lines (12 in all)"
    assert one[0] == "bulkremove: error: one.txt:3: '5/../6': customer id must be ASCII digits only"
    assert one[1].startswith("1 invalid line in all; nothing sent: fix them, or --skip-invalid ")
    assert columns[3].startswith("3 invalid lines in all; nothing sent: ")
    assert columns[:3] == [
        "bulkremove: error: ids.csv:3: '../x': campaign_id must be exactly 5 characters of "
        "[0-9A-Za-z]",
        "ids.csv:4: '00001&customer_id[]=5': campaign_id must be exactly 5 characters of "
        "[0-9A-Za-z]",
        "ids.csv:5: '0000\\x1b': campaign_id must be exactly 5 characters of [0-9A-Za-z]",
    ]
    for message, shown, source in [
        (flag, "'00001&customer_id[]=5'", "flag --campaign"),
        (unicode, f"'{FW_000}01'", "flag --campaign"),
        (environ, "'../x\\n'", "env BULKREMOVE_CAMPAIGN"),
    ]:
        assert message == [
            f"bulkremove: error: campaign = {shown} (from {source}) is invalid: must be exactly "
            "five characters of [0-9A-Za-z]"
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_a_journal_edited_by_hand_cannot_smuggle_ids_or_campaigns(tmp_path: Path) -> None:
    write_ids(tmp_path / "ids.txt", range(1, 6))
    nowhere = f"http://127.0.0.1:{free_port()}/api"
    first = run_cli(
        nowhere, "ids.txt", "--max-attempts", "1",
        cwd=tmp_path, journal="ids.sqlite", environ=yes_env(),
    )  # fmt: skip
    assert first.returncode == 4, first.stderr
    tamper = {
        "ids": "UPDATE records SET customer_id = '3&customer_id[]=77' WHERE customer_id = 3",
        "campaign": "UPDATE campaigns SET campaign = '../x'",
    }
    source = sqlite3.connect(tmp_path / "ids.sqlite")
    for name, statement in tamper.items():
        copy = sqlite3.connect(tmp_path / f"{name}-edited.sqlite")
        source.backup(copy)
        copy.execute(statement)
        copy.commit()
        copy.close()
    source.close()

    def resume(name: str) -> subprocess.CompletedProcess[str]:
        args = ["run", "--resume", f"{name}-edited.sqlite", "--base-url", server.base_url]
        return bulkremove(args, cwd=tmp_path, environ=yes_env())

    with sandbox("--campaign", "00001=1-100") as server, ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(resume, tamper))
        stats = server.stats()
    assert stats["requests"] == 0
    assert stats["remaining"]["00001"] == 100
    expected = [
        "customer id '3&customer_id[]=77': not an integer from 1 to 999999999999999999",
        "campaign id '../x': not exactly 5 characters of [0-9A-Za-z]",
    ]
    for done, reason in zip(runs, expected, strict=True):
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert error_lines(done.stderr) == [f"bulkremove: error: refusing to send {reason}"]
