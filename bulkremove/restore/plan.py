"""What a restore would add back: read from the journal before anything is sent.

The records are those the journal removed (``--state``, ``removed`` by default), as its
snapshot (``listed``) holds them, narrowed by ``--ids``; those a restore of this journal already
settled (``restored``, ``already_present``, ``failed``) are not sent again, those left
``pending`` by a stopped one are. A journal without a snapshot cannot be restored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bulkremove.errors import InputError, JournalError
from bulkremove.ids import (
    customer_id_problem,
    parse_customer_id,
    parse_phone_number,
    phone_number_problem,
)
from bulkremove.journal import Journal
from bulkremove.kinds import Kind
from bulkremove.plan import host_of
from bulkremove.restore.answers import Todo
from bulkremove.restore.convert import add_entry, concerns

RESTORABLE = ("removed", "not_found")
"""States ``--state`` may name: a not_found after a lost answer may be one the run removed."""
SHOWN_CONCERNS = 20
"""Concerns listed one by one; the rest are counted."""


@dataclass
class RestorePlan:
    """The records one restore sends, per campaign, and what was settled before."""

    journal: str
    base_url: str
    kind: Kind
    todo: dict[str, list[Todo]] = field(default_factory=dict)
    settled: int = 0
    """Records of the selection a restore of this journal settled before: not sent again."""
    lacking: int = 0
    """Records in the chosen states that the snapshot does not hold: they cannot come back."""
    concerns: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(todos) for todos in self.todo.values())

    @property
    def requests_word(self) -> str:
        return "batch adds" if not self.kind.several_records else "single adds"

    def question(self) -> str:
        """``Add 48,210 records back to campaign 00001 on acme? [y/N] ``"""
        names = sorted(name for name, todos in self.todo.items() if todos)
        word = "campaign" if len(names) == 1 else "campaigns"
        return (
            f"Add {self.count:,} records back to {word} {', '.join(names)}"
            f" on {host_of(self.base_url)}? [y/N] "
        )

    def lines(self) -> list[str]:
        """The plan for people, a few lines."""
        out = [f"restore: add {self.count} records back on {host_of(self.base_url)}"]
        out += [f"  campaign {name}: {len(t)}" for name, t in sorted(self.todo.items()) if t]
        if self.settled:
            out.append(f"  settled by an earlier restore, not sent again: {self.settled}")
        if self.lacking:
            out.append(f"  not in the journal's snapshot, cannot come back: {self.lacking} records")
        out += [f"  sent as listed: {line}" for line in self.concerns[:SHOWN_CONCERNS]]
        if len(self.concerns) > SHOWN_CONCERNS:
            out.append(f"  ... and {len(self.concerns) - SHOWN_CONCERNS} more sent as listed")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "journal": self.journal,
            "records": self.count,
            "campaigns": {name: len(t) for name, t in sorted(self.todo.items())},
            "settled_before": self.settled,
            "not_in_snapshot": self.lacking,
            "concerns": len(self.concerns),
        }


def plan_restore(
    journal: Journal,
    kind: Kind,
    base_url: str,
    *,
    states: tuple[str, ...] = ("removed",),
    keys: set[int] | None = None,
) -> RestorePlan:
    """What restoring ``journal``'s records in ``states`` (of ``keys`` only, if given) sends."""
    if not journal.has_snapshot():
        raise JournalError(
            f"{journal.path} holds no snapshot of the records it removed, so nothing can be "
            "restored from it (a --where run keeps one, and so does --snapshot always)"
        )
    plan = RestorePlan(str(journal.path), base_url, kind)
    now = time.strftime("%Y-%m-%d %H:%M")
    for campaign in sorted(journal.counts()):
        found, lacking = journal.snapshots(campaign, states, kind.several_records)
        plan.lacking += lacking
        before = journal.restore_rows(campaign)
        todos = plan.todo.setdefault(campaign, [])
        for record in found:
            key = kind.listed_key(record.key)
            if key is None or (keys is not None and key not in keys):
                continue
            state, attempts = before.get(record.record_id, ("pending", 0))
            if state != "pending":
                plan.settled += 1
                continue
            entry = orjson.dumps(add_entry(record.fields, kind))
            todos.append(Todo(record.record_id, key, entry, attempts > 0))
            shown = kind.labelled(key)
            plan.concerns += [f"{campaign} {shown}: {c}" for c in concerns(record.fields, now)]
    return plan


def read_keys(path: str, kind: Kind) -> set[int]:
    """The keys of an ``--ids`` file: one customer id (or phone number) a line; blank lines and
    ``#`` comments skipped. InputError naming the file and line of a bad one."""
    parse, problem = (
        (parse_phone_number, phone_number_problem)
        if kind.several_records
        else (parse_customer_id, customer_id_problem)
    )
    keys: set[int] = set()
    try:
        with Path(path).open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                text = raw.split(b"#", 1)[0].strip()
                if not text:
                    continue
                key = parse(text)
                if key is None:
                    raise InputError(f"{path}:{number}: {problem(text)}")
                keys.add(key)
    except OSError as exc:
        raise InputError(f"--ids {path}: cannot read: {exc.strerror}") from None
    return keys
