"""Errors that point at the likely slip: a header in a text file, a CSV without the id column,
a base URL without ``/api``."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import run_cli, sandbox, write_ids

NOWHERE = "http://127.0.0.1:9/api"  # a dry run sends nothing


@pytest.mark.parametrize("header", ["customer_id", "id,campaign_id"])
def test_a_text_file_starting_with_a_header_suggests_csv(tmp_path: Path, header: str) -> None:
    ids = tmp_path / "export.txt"
    ids.write_text(f"{header}\n1\n")
    done = run_cli(NOWHERE, ids, "--dry-run", cwd=tmp_path)
    assert done.returncode == 2
    assert f"export.txt:1: '{header}': looks like a CSV header: name the file .csv" in done.stderr


def test_a_csv_without_the_id_column_lists_the_columns_found(tmp_path: Path) -> None:
    ids = tmp_path / "export.csv"
    ids.write_text("id;Name; campaign_id\n1;x;00001\n")
    done = run_cli(NOWHERE, ids, "--dry-run", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "export.csv:1: 'id;Name; campaign_id': no customer_id column in the header "
        "(columns found: id, name, campaign_id)" in done.stderr
    )


def test_a_404_from_a_base_url_without_api_names_the_url_and_the_api_root(
    tmp_path: Path,
) -> None:
    ids = write_ids(tmp_path / "ids.txt", [1, 2])
    with sandbox() as server:
        done = run_cli(server.root, ids, cwd=tmp_path)
        with_api = run_cli(server.base_url, ids, cwd=tmp_path, campaign="00404", journal="k.sqlite")
    assert done.returncode == 3
    assert f"DELETE {server.root}/" in done.stderr
    assert f"did you mean {server.root}/api?" in done.stderr
    assert with_api.returncode == 3
    assert "did you mean" not in with_api.stderr
    assert "check the campaign id" in with_api.stderr
