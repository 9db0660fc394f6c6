"""Errors that point at the likely slip: a header in a text file, a CSV without the id column."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import run_cli

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
