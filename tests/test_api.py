"""The public API: the exported names, the README's migration example, and BulkRemover's rails.

Runs against an in-process sandbox on a loopback port.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bulkremove
from bulkremove import BulkRemover, Progress, RefusedError, Settings
from bulkremove.sandbox import RangeSeed, Sandbox, SandboxConfig

README = Path(__file__).resolve().parents[1] / "docs" / "library.md"

pytestmark = pytest.mark.anyio


def test_the_exported_names_are_pinned() -> None:
    assert bulkremove.__all__ == [
        "BulkRemoveError",
        "BulkRemover",
        "ConfigError",
        "FatalApiError",
        "InputError",
        "JobResult",
        "JournalError",
        "Plan",
        "Progress",
        "ProgressSink",
        "RefusedError",
        "Settings",
        "UsageError",
        "load_settings",
    ]
    for name in bulkremove.__all__:
        assert getattr(bulkremove, name).__name__ == name


@pytest.fixture
async def server() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(port=0, campaigns=(RangeSeed("00001", 1, 1000),), seed=1)
    async with Sandbox(config) as sandbox:
        yield sandbox


def settings(server: Sandbox, tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        base_url=server.base_url,
        username="api_user",
        password="api_pass",
        campaign="00001",
        rate=500.0,
        journal_dir=str(tmp_path / "journals"),
        **extra,
    )


def ids_file(tmp_path: Path, ids: range) -> str:
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"{i}\n" for i in ids))
    return str(path)


async def test_the_readme_migration_example_runs(
    server: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = README.read_text()
    found = re.search(r"<!-- example: migration -->\n```python\n(.*?)```", text, re.S)
    assert found, "the README lost its example"
    monkeypatch.setenv("THULIUM_API", server.base_url)
    monkeypatch.setenv("THULIUM_USER", "api_user")
    monkeypatch.setenv("THULIUM_PASSWORD", "api_pass")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(found.group(1), "README.md", "exec"), namespace)
    purge = namespace["purge_churned"]
    assert callable(purge)

    code = await purge(ids_file(tmp_path, range(1, 301)))

    assert code == 0
    assert server.state.remaining() == {"00001": 700}
    journals = list((tmp_path / "migration-journals").glob("*.sqlite"))
    assert len(journals) == 1, "the planned journal is the one that was run"


async def test_confirm_false_refuses_and_sends_nothing(server: Sandbox, tmp_path: Path) -> None:
    asked = []

    def confirm(plan: bulkremove.Plan) -> bool:
        asked.append((plan.ids, plan.requests, plan.host))
        return False

    async with BulkRemover(settings(server, tmp_path), confirm=confirm) as remover:
        with pytest.raises(RefusedError, match="not confirmed"):
            await remover.run([ids_file(tmp_path, range(1, 101))], journal=str(tmp_path / "j.db"))
    assert asked == [(100, 1, server.base_url.split("/")[2])]
    assert server.stats.requests == 0
    assert not (tmp_path / "j.db").exists()


async def test_max_delete_refuses_in_the_library_too(server: Sandbox, tmp_path: Path) -> None:
    async with BulkRemover(settings(server, tmp_path, max_delete=99)) as remover:
        with pytest.raises(RefusedError, match="100 ids, 1 more than max_delete = 99"):
            await remover.run([ids_file(tmp_path, range(1, 101))])
        plan = await remover.plan([ids_file(tmp_path, range(1, 101))])
    assert plan.over_limit == 1
    assert server.stats.requests == 0


async def test_progress_reaches_the_callback_and_an_async_confirm_is_awaited(
    server: Sandbox, tmp_path: Path
) -> None:
    seen: list[Progress] = []

    async def confirm(plan: bulkremove.Plan) -> bool:
        return plan.ids == 500

    async with BulkRemover(
        settings(server, tmp_path), confirm=confirm, on_progress=seen.append, progress_interval=0.01
    ) as remover:
        result = await remover.run([ids_file(tmp_path, range(501, 1001))])
    assert result.ok
    assert result.plan is not None and result.plan.ids == 500
    assert seen[-1].final and seen[-1].removed == 500 and seen[-1].total == 500
    assert result.progress == seen[-1]
    assert server.state.remaining() == {"00001": 500}


async def test_pages_read_ahead_send_every_id_once_in_full_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkremove import engine
    from bulkremove.journal import Journal

    # pages much smaller than a batch (boundaries every few ids), and one read ahead after each
    # batch, as READ_AHEAD is above the batch size
    monkeypatch.setattr(engine, "PAGE_SIZE", 7)
    monkeypatch.setattr(engine, "READ_AHEAD", 40)
    pending_page = Journal.pending_page

    def slow_page(journal: Journal, campaign: str, after: int, limit: int) -> list[int]:
        time.sleep(0.003)  # a page read ahead is still under way when the next one is needed
        return pending_page(journal, campaign, after, limit)

    monkeypatch.setattr(Journal, "pending_page", slow_page)
    seeds = (RangeSeed("00001", 1, 1000), RangeSeed("00002", 1, 1000), RangeSeed("00003", 1, 1000))
    config = SandboxConfig(port=0, campaigns=seeds, seed=1)
    source = tmp_path / "ids.csv"
    rows = [f"{i},{c}" for c in ("00001", "00002", "00003") for i in range(1, 1001, 3)]
    source.write_text("customer_id,campaign_id\n" + "\n".join(rows[::-1]) + "\n")
    async with Sandbox(config) as server:
        options = settings(server, tmp_path, max_ids_per_request=25, concurrency=4)
        async with BulkRemover(options) as remover:
            result = await remover.run([str(source)], journal=str(tmp_path / "j.sqlite"))
        left = server.state.remaining()
        requests = server.stats.requests
    assert result.exit_code == 0
    assert left == {c: 1000 - 334 for c in ("00001", "00002", "00003")}
    assert result.report["totals"]["removed"] == 3 * 334
    assert result.report["totals"]["not_found"] == 0  # no id sent twice
    assert requests == result.plan.requests == 3 * 14  # full batches of 25, then 334 % 25


async def test_resume_takes_the_journals_settings_for_keys_left_alone(
    server: Sandbox, tmp_path: Path
) -> None:
    journal = str(tmp_path / "j.sqlite")
    # no snapshot: the requests counted are the plan's
    planner = BulkRemover(
        settings(server, tmp_path, max_ids_per_request=25, assume_yes=True, snapshot="off")
    )
    plan = await planner.plan([ids_file(tmp_path, range(1, 101))], journal=journal)
    assert plan.requests == 4

    asked: list[int] = []

    def confirm(plan: bulkremove.Plan) -> bool:
        asked.append(plan.requests)
        return True

    async with BulkRemover(settings(server, tmp_path), confirm=confirm) as remover:
        result = await remover.resume(journal)
    assert result.ok
    assert asked == [4], "max_ids_per_request came from the journal; consent was still asked"
    assert server.stats.requests == 4


async def test_an_error_is_placed_before_sending_or_after_sending_started(
    server: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkremove.errors import JournalError
    from bulkremove.exits import Where, exit_code_for_error, where_raised
    from bulkremove.journal import Journal

    async with BulkRemover(settings(server, tmp_path, max_delete=5)) as remover:
        with pytest.raises(RefusedError) as refused:
            await remover.run([ids_file(tmp_path, range(1, 11))])
    assert where_raised(refused.value) is Where.BEFORE_SENDING

    def disk_full(*args: object, **kwargs: object) -> None:
        raise JournalError("disk full")

    monkeypatch.setattr(Journal, "record_groups", disk_full)
    async with BulkRemover(settings(server, tmp_path)) as remover:
        with pytest.raises(JournalError) as failed:
            await remover.run([ids_file(tmp_path, range(1, 11))], journal=str(tmp_path / "j.db"))
    assert where_raised(failed.value) is Where.AFTER_SENDING_STARTED
    assert server.stats.requests >= 1
    assert exit_code_for_error(failed.value) == 5  # the journal failed after sending started
