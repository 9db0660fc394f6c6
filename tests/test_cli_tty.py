"""``bulkremove run`` on a terminal, as a person sees it: a pseudo-terminal driven by pexpect.

The question, the answers (y goes, n or Enter sends nothing and exits 2), the live display and its
final counts, and log lines printed beside the display without being torn by it.
"""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

import pexpect
from e2e import env_asking, run_args, sandbox, write_ids

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(args: list[str], cwd: Path) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "bulkremove", *args],
        cwd=str(cwd),
        env=env_asking(TERM="xterm-256color"),
        encoding="utf-8",
        dimensions=(50, 200),
        timeout=60,
    )


def finish(child: pexpect.spawn) -> tuple[int, list[str]]:
    """Wait for the end; the exit code and the screen's lines, escape sequences removed."""
    child.expect(pexpect.EOF)
    child.close()
    text = ANSI.sub("", child.before or "")
    lines = [part for line in text.split("\r\n") for part in line.split("\r")]
    return int(child.exitstatus), lines


def test_yes_at_the_prompt_runs_and_the_display_shows_the_final_counts(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 1201))
    with sandbox("--campaign", "00001=1-1000") as server:
        child = spawn(
            run_args(server, ids, "--rate", "20", "--max-ids-per-request", "50"),
            tmp_path,
        )
        host = server.base_url.split("/")[2]
        child.expect_exact(f"Remove 1200 records from campaign 00001 on {host}? [y/N] ")
        assert server.stats()["requests"] == 0, "nothing is sent before the answer"
        assert "campaign 00001: 1200" in ANSI.sub("", child.before)
        child.sendline("y")
        code, screen = finish(child)
        remaining = server.remaining()
    assert code == 0, "\n".join(screen)
    assert remaining == set()
    frames = [line for line in screen if line.startswith("removed ")]
    assert len(frames) >= 2, "the display was redrawn as the run went"
    assert re.match(r"removed 1,000\s+not found 200\s+in call 0\s+failed 0\s+pending 0", frames[-1])
    assert any("ids/s" in line and "rate 19.8 req/s" in line for line in screen)  # 0.99 R
    assert any(line.strip().startswith("━") and "done in" in line for line in screen)
    assert any(line.startswith("records: 1200  removed: 1000") for line in screen)


def test_no_at_the_prompt_sends_nothing_and_exits_2(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox() as server:
        child = spawn(run_args(server, ids), tmp_path)
        child.expect_exact("[y/N] ")
        child.sendline("n")
        code, screen = finish(child)
        requests = server.stats()["requests"]
    assert code == 2
    assert requests == 0
    assert any("bulkremove: error: not confirmed: nothing sent" in line for line in screen)
    assert not any(line.startswith("removed ") for line in screen), "no display was started"
    assert not (tmp_path / "j.sqlite").exists()


def test_enter_alone_is_no(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox() as server:
        child = spawn(run_args(server, ids), tmp_path)
        child.expect_exact("[y/N] ")
        child.sendline("")
        code, _ = finish(child)
        requests = server.stats()["requests"]
    assert code == 2
    assert requests == 0


def test_ctrl_c_at_the_prompt_is_no(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox() as server:
        child = spawn(run_args(server, ids), tmp_path)
        child.expect_exact("[y/N] ")
        child.sendintr()
        code, screen = finish(child)
        requests = server.stats()["requests"]
    assert code == 2
    assert requests == 0
    assert any("not confirmed: nothing sent" in line for line in screen)


def test_a_resume_on_a_terminal_asks_too(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 101))
    with sandbox("--campaign", "00001=1-100") as server:
        server.post("/_sandbox/calls", {"campaign": "00001", "ids": [4, 5], "duration_s": None})
        first = spawn(
            run_args(server, ids, "--yes", "--rate", "500", "--call-retry-timeout",
                     "0.2", "--call-retry-initial", "0.1", "--call-retry-max", "0.1"),
            tmp_path,
        )  # fmt: skip
        code, screen = finish(first)
        assert code == 4, "\n".join(screen)
        assert not any("[y/N]" in line for line in screen), "--yes asks nothing"
        before = server.stats()["requests"]
        again = spawn(["run", "--resume", "j.sqlite"], tmp_path)
        again.expect_exact("Remove 2 records from campaign 00001")
        again.sendline("no")
        code, _ = finish(again)
        assert code == 2
        assert server.stats()["requests"] == before


def test_log_lines_print_whole_above_the_live_display(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 1501))
    # 414 above 1500 bytes: the run logs url_too_long warnings while the display is live.
    with sandbox("--campaign", "00001=1-1500", "--max-target-length", "1500") as server:
        child = spawn(
            run_args(server, ids, "--yes", "--rate", "50", "--concurrency", "1"),
            tmp_path,
        )
        code, screen = finish(child)
    assert code == 0, "\n".join(screen)
    warnings = [line for line in screen if "url_too_long" in line]
    assert len(warnings) == 3
    for line in warnings:
        assert re.fullmatch(
            r"\S+Z \[warning\s*\] url_too_long \[engine\] .*new_budget=\d+ refused_bytes=\d+.*",
            line.strip(),
        ), line
    frames = [i for i, line in enumerate(screen) if line.startswith("removed ")]
    assert frames and frames[-1] > screen.index(warnings[-1]), "the display stays below the logs"
    assert screen[frames[-1]].startswith("removed 1,500")


def test_an_interrupted_run_says_interrupted_and_resume(tmp_path: Path) -> None:
    ids = write_ids(tmp_path / "ids.txt", range(1, 1001))
    with sandbox("--campaign", "00001=1-1000") as server:
        child = spawn(
            run_args(server, ids, "--rate", "5", "--max-ids-per-request", "10", "--yes"),
            tmp_path,
        )
        child.expect("ids/s")
        child.kill(signal.SIGINT)
        code, screen = finish(child)
    assert code == 130, "\n".join(screen)
    last_frames = [line for line in screen if "requests" in line and "(" in line]
    assert "interrupted after" in last_frames[-1], "\n".join(screen)
    assert not any("done in" in line for line in screen)
    assert any("pending" in line and "bulkremove run --resume j.sqlite" in line for line in screen)


def test_the_demo_shows_the_live_display_and_ends_with_what_to_try_next(tmp_path: Path) -> None:
    code, screen = finish(spawn(["demo", "--records", "300"], tmp_path))
    assert code == 0, "\n".join(screen)
    frames = [line for line in screen if line.startswith("removed ")]
    assert frames and frames[-1].startswith("removed 300"), "\n".join(screen)
    assert any("done in" in line for line in screen)
    closing = [line.strip() for line in screen if line.strip()][-2:]
    assert closing[0].startswith("demo: removed 300 of 300 records")
    assert closing[1].startswith("next: bulkremove sandbox --port 8080 & bulkremove run ")
