"""Reading and validating input ids."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkremove.errors import ConfigError, InputError
from bulkremove.ingest import InputReader, InvalidLine, blocks, problems, table


def read(
    sources: list[str], campaign: str | None = "00001"
) -> tuple[list[tuple[str, int]], InputReader]:
    reader = InputReader(sources, campaign)
    return [(c, i) for c, ids in reader for i in ids], reader


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_text_skips_blanks_and_comments_and_trims(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        "ids.txt",
        b"441\r\n\r\n  442\t\r\n# a comment\r\n   # indented comment\n\t\n007\n443",
    )
    ids, reader = read([src])
    assert ids == [("00001", 441), ("00001", 442), ("00001", 7), ("00001", 443)]
    assert (reader.stats.lines, reader.stats.ids, reader.stats.invalid) == (8, 4, 0)
    reader.stats.check()  # nothing invalid: no error


def test_text_fast_path_and_duplicates(tmp_path: Path) -> None:
    src = write(tmp_path, "ids", b"".join(b"%d\n" % (i % 1000 + 1) for i in range(5000)))
    ids, reader = read([src])
    assert [i for _, i in ids] == [i % 1000 + 1 for i in range(5000)]
    assert (reader.stats.lines, reader.stats.ids) == (5000, 5000)


def test_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    ids, _ = read([write(tmp_path, "bom.txt", b"\xef\xbb\xbf12\n13\n")])
    assert ids == [("00001", 12), ("00001", 13)]


def test_invalid_lines_name_file_line_text_and_reason(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        "ids.txt",
        b"1\nabc\n0\n1234567890123456789\n12 34\n\xff\xfe1\n5\x006\n-3\n\x1b[2J\n\xd9\xa3\n",
    )
    ids, reader = read([src])
    assert ids == [("00001", 1)]
    assert reader.stats.first_invalid == [
        InvalidLine(src, 2, "'abc'", "customer id must be ASCII digits only"),
        InvalidLine(src, 3, "'0'", "customer id must be a positive integer"),
        InvalidLine(src, 4, "'1234567890123456789'", "customer id longer than 18 digits"),
        InvalidLine(src, 5, "'12 34'", "customer id must be ASCII digits only"),
        InvalidLine(src, 6, "'\\xff\\xfe1'", "line is not valid UTF-8"),
        InvalidLine(src, 7, "'5\\x006'", "line contains NUL"),
        InvalidLine(src, 8, "'-3'", "customer id must be ASCII digits only"),
        InvalidLine(src, 9, "'\\x1b[2J'", "customer id must be ASCII digits only"),
        InvalidLine(src, 10, "'\u0663'", "customer id must be ASCII digits only"),
    ]
    with pytest.raises(InputError) as caught:
        reader.stats.check()
    assert str(caught.value).splitlines()[0] == (
        f"{src}:2: 'abc': customer id must be ASCII digits only"
    )


def test_first_ten_invalid_lines_then_a_count(tmp_path: Path) -> None:
    src = write(tmp_path, "ids.txt", b"".join(b"x%d\n1\n" % i for i in range(25)))
    ids, reader = read([src])
    assert len(ids) == 25
    assert reader.stats.invalid == 25
    lines = reader.stats.invalid_message().splitlines()
    assert len(lines) == 11
    assert lines[0] == f"{src}:1: 'x0': customer id must be ASCII digits only"
    assert lines[9] == f"{src}:19: 'x9': customer id must be ASCII digits only"
    assert lines[10] == "... and 15 more invalid lines (25 in all)"


def test_long_text_is_cut_in_the_message(tmp_path: Path) -> None:
    src = write(tmp_path, "ids.txt", b"9" * 200 + b"\n")
    _, reader = read([src])
    (bad,) = reader.stats.first_invalid
    assert bad.text == "'" + "9" * 80 + "'..."
    assert bad.reason == "customer id longer than 18 digits"


def test_overlong_lines_are_invalid_unless_comments(tmp_path: Path) -> None:
    big = blocks.MAX_LINE + 10
    data = b"1\n" + b"7" * big + b"\n2\n#" + b"c" * big + b"\n3\n" + b" " * big + b"\n4"
    with mock.patch.object(blocks, "BLOCK_SIZE", 1000):
        ids, reader = read([write(tmp_path, "ids.txt", data)])
    assert [i for _, i in ids] == [1, 2, 3, 4]
    assert [(b.line, b.reason) for b in reader.stats.first_invalid] == [
        (2, problems.TOO_LONG),
        (6, problems.TOO_LONG),
    ]
    assert reader.stats.lines == 7


def test_text_needs_a_campaign(tmp_path: Path) -> None:
    src = write(tmp_path, "ids.txt", b"1\n")
    with pytest.raises(InputError, match="--campaign is needed"):
        InputReader([src], None)
    with pytest.raises(InputError, match="<stdin>: --campaign is needed"):
        InputReader(["-"], None)


def test_bad_default_campaign_and_stdin_twice_are_refused() -> None:
    with pytest.raises(ConfigError, match="exactly 5 characters"):
        InputReader(["-"], "0001")
    with pytest.raises(InputError, match="only once"):
        InputReader(["-", "-"], "00001")


def test_unreadable_source_names_the_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.txt")
    reader = InputReader([missing], "00001")
    with pytest.raises(InputError, match=f"{missing}: cannot read: No such file"):
        list(reader)


def test_reader_iterates_once(tmp_path: Path) -> None:
    _, reader = read([write(tmp_path, "ids.txt", b"1\n")])
    with pytest.raises(RuntimeError):
        list(reader)


def test_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"5\nfoo\n6\n")))
    ids, reader = read(["-", write(tmp_path, "more.txt", b"7\n")], "AbCd9")
    assert ids == [("AbCd9", 5), ("AbCd9", 6), ("AbCd9", 7)]
    assert reader.stats.first_invalid == [
        InvalidLine("<stdin>", 2, "'foo'", "customer id must be ASCII digits only")
    ]
    assert reader.stats.lines == 4


def test_csv_with_campaign_column(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        "ids.CSV",
        b"name,Campaign_ID,customer_id\r\n"
        b'"Smith, J",00002,441\r\n'
        b"Doe,,442\r\n"
        b'"multi\r\nline",ZZ,443\r\n'
        b"\r\n"
        b"x,00003,abc\r\n"
        b"short\r\n",
    )
    ids, reader = read([src])
    assert sorted(ids) == [("00001", 442), ("00002", 441)]
    assert reader.stats.first_invalid == [
        InvalidLine(src, 4, "'ZZ'", "campaign_id must be exactly 5 characters of [0-9A-Za-z]"),
        InvalidLine(src, 7, "'abc'", "customer id must be ASCII digits only"),
        InvalidLine(src, 8, "''", "empty customer id"),
    ]
    assert (reader.stats.lines, reader.stats.ids) == (8, 2)


def test_csv_campaign_cells_without_default_campaign(tmp_path: Path) -> None:
    src = write(tmp_path, "a.csv", b"customer_id,campaign_id\n1,00007\n2,\n3,00008\n")
    ids, reader = read([src], None)
    assert ids == [("00007", 1), ("00008", 3)]
    (bad,) = reader.stats.first_invalid
    assert (bad.line, bad.reason) == (3, problems.NO_CAMPAIGN)


def test_csv_without_campaign_column_uses_default(tmp_path: Path) -> None:
    src = write(tmp_path, "a.csv", b"\xef\xbb\xbf customer_id \n12\n 0013 \n")
    ids, reader = read([src])
    assert ids == [("00001", 12), ("00001", 13)]
    assert reader.stats.invalid == 0


def test_csv_semicolons(tmp_path: Path) -> None:
    src = write(tmp_path, "pl.csv", "imię;customer_id\nŁukasz;15\n".encode())
    ids, _ = read([src])
    assert ids == [("00001", 15)]


def test_csv_header_problems_are_line_one(tmp_path: Path) -> None:
    no_column = write(tmp_path, "a.csv", b"id,campaign_id\n1,00001\n")
    no_campaign = write(tmp_path, "b.csv", b"customer_id\n1\n")
    empty = write(tmp_path, "c.csv", b"")
    _, reader = read([no_column, empty])
    assert [(b.source, b.line, b.reason) for b in reader.stats.first_invalid] == [
        (no_column, 1, "no customer_id column in the header (columns found: id, campaign_id)"),
        (empty, 1, "empty CSV file: no header row with customer_id"),
    ]
    _, reader = read([no_campaign], None)
    assert [(b.line, b.reason) for b in reader.stats.first_invalid] == [(1, problems.NO_CAMPAIGN)]


def test_csv_invalid_utf8_and_nul(tmp_path: Path) -> None:
    src = write(tmp_path, "a.csv", b"customer_id,note\n1,ok\n2,\xff\n3,a\x00b\n\xc3(,x\n4,fine\n")
    ids, reader = read([src])
    assert [i for _, i in ids] == [1, 4]
    assert [(b.line, b.text, b.reason) for b in reader.stats.first_invalid] == [
        (3, "'2,\\xff'", "line is not valid UTF-8"),
        (4, "'3,a\\x00b'", "line contains NUL"),
        (5, "'\\xc3(,x'", "line is not valid UTF-8"),
    ]


def test_csv_overlong_line_keeps_numbering(tmp_path: Path) -> None:
    data = b"customer_id,note\n1,a\n2," + b"n" * (blocks.MAX_LINE + 5) + b"\n3,b\nq,c\n"
    with mock.patch.object(blocks, "BLOCK_SIZE", 4096):
        ids, reader = read([write(tmp_path, "a.csv", data)])
    assert [i for _, i in ids] == [1, 3]
    assert [(b.line, b.reason) for b in reader.stats.first_invalid] == [
        (3, problems.TOO_LONG),
        (5, "customer id must be ASCII digits only"),
    ]


def test_csv_batches_are_bounded(tmp_path: Path) -> None:
    rows = b"".join(b"%d,%s\n" % (i, b"00001" if i % 2 else b"00002") for i in range(1, 2001))
    with mock.patch.object(table, "CSV_BATCH", 300):
        reader = InputReader([write(tmp_path, "a.csv", b"customer_id,campaign_id\n" + rows)], None)
        batches = list(reader)
    assert max(len(ids) for _, ids in batches) <= 300
    assert sorted(i for c, ids in batches for i in ids if c == "00002") == list(range(2, 2001, 2))
    assert reader.stats.ids == 2000


def reference(lines: list[bytes], max_line: int) -> tuple[list[int], int]:
    """What the reader must make of these lines: the ids, and how many lines are invalid."""
    ids: list[int] = []
    invalid = 0
    for number, raw in enumerate(lines):
        if number == 0 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if len(raw) > max_line:
            invalid += not raw[: max_line + 1].strip(b" \t\r").startswith(b"#")
            continue
        text = raw.strip(b" \t\r")
        if not text or text.startswith(b"#"):
            continue
        if text.isdigit() and len(text) <= 18 and int(text) > 0:
            ids.append(int(text))
        else:
            invalid += 1
    return ids, invalid


line_bytes = st.one_of(
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
    st.from_regex(rb"\A[ \t\r]*[0-9]{1,20}[ \t\r]*\Z").map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from([b"", b"#", b"\xef\xbb\xbf7", b"0", b" 12\r", b"\x00", b"\xff", b"1" * 40]),
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(line_bytes, max_size=40),
    end=st.sampled_from([b"", b"\n"]),
    block=st.integers(1, 64),
)
def test_any_bytes_give_valid_ids_or_invalid_lines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], end: bytes, block: int
) -> None:
    path = tmp_path_factory.mktemp("prop") / "ids.txt"
    path.write_bytes(b"\n".join(lines) + end)
    with mock.patch.object(blocks, "BLOCK_SIZE", block), mock.patch.object(blocks, "MAX_LINE", 24):
        ids, reader = read([str(path)])
    expected_ids, expected_invalid = reference(lines, max_line=24)
    assert [i for _, i in ids] == expected_ids
    assert all(0 < i < 10**18 for _, i in ids)
    assert reader.stats.invalid == expected_invalid
    assert reader.stats.ids == len(expected_ids)
    assert all(b.line <= reader.stats.lines for b in reader.stats.first_invalid)
    if expected_invalid:
        with pytest.raises(InputError):
            reader.stats.check()


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=300), block=st.integers(1, 64))
def test_csv_never_raises_on_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, body: bytes, block: int
) -> None:
    path = tmp_path_factory.mktemp("prop") / "ids.csv"
    path.write_bytes(b"customer_id,campaign_id\n" + body)
    with mock.patch.object(blocks, "BLOCK_SIZE", block):
        ids, reader = read([str(path)])
    for campaign, customer_id in ids:
        assert 0 < customer_id < 10**18
        assert len(campaign) == 5 and campaign.isascii() and campaign.isalnum()
    assert reader.stats.ids == len(ids)
    assert len(reader.stats.first_invalid) == min(reader.stats.invalid, problems.MAX_SHOWN)


def test_every_source_goes_into_the_journal_and_a_failed_read_removes_it(
    tmp_path: Path,
) -> None:
    from bulkremove.prepared import prepare_journal
    from bulkremove.settings import Settings

    options = Settings(campaign="00001")
    first, second = write(tmp_path, "a.txt", b"3\n1\n"), write(tmp_path, "b.txt", b"2\n1\n")
    with prepare_journal(options, [first, second], tmp_path / "j.sqlite") as journal:
        assert journal.counts()["00001"]["pending"] == 3

    missing = str(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="cannot read"):
        prepare_journal(options, [first, missing], tmp_path / "k.sqlite")
    assert not (tmp_path / "k.sqlite").exists()
