"""The plan of a run: what it would send, counted from the journal before anything is sent.

Ids per campaign, the requests they pack into (with the real batching code, under the configured
byte budget and id cap), and the least time that takes at the configured rate. ``--dry-run``
prints it; ``max_delete`` and the confirmation question are decided on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yarl

from bulkremove.batching import count_batches
from bulkremove.errors import ConfigError
from bulkremove.journal import Journal, State
from bulkremove.kinds import KINDS, kind_of
from bulkremove.settings import Settings

NEW_STATES: tuple[State, ...] = ("pending",)
"""What a new run sends."""
RESUMED_STATES: tuple[State, ...] = ("pending", "in_call", "failed")
"""What a resumed run sends: ``in_call`` and ``failed`` records are tried again."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run would send. ``requests`` assumes no 414 lowers the byte budget on the way."""

    journal: str
    base_url: str
    campaigns: dict[str, int]
    """Ids to send per campaign (campaigns with none are left out)."""
    requests: int
    rate: float
    max_url_length: int
    max_ids_per_request: int
    resumed: bool = False
    input: dict[str, int] = field(default_factory=dict)
    """Input figures of a new run (lines, ids, duplicates, invalid); empty for a resume."""
    max_delete: int | None = None
    selection: dict[str, Any] = field(default_factory=dict)
    """A run by selection: its filters and the listing's figures (the journal's ``listing``)."""
    target: str = "customer_id"
    """The kind of key sent (see :mod:`bulkremove.kinds`)."""
    query_brackets: str = "encoded"
    """How the brackets of the query key are sent (the ``query_brackets`` setting)."""
    snapshot: dict[str, Any] = field(default_factory=dict)
    """The snapshot taken before the first DELETE (the journal's meta ``snapshot``, see
    :mod:`bulkremove.snapshot`); empty when not decided yet."""

    @property
    def noun(self) -> str:
        """What the keys are, plural: ``records`` (one per customer id) or ``phone numbers``."""
        return KINDS[self.target].noun

    @property
    def keys_word(self) -> str:
        """What the keys sent are called, plural: ``ids`` or ``phone numbers``."""
        return KINDS[self.target].keys_word

    @property
    def ids(self) -> int:
        """Ids to send, over every campaign."""
        return sum(self.campaigns.values())

    @property
    def ids_per_request(self) -> float:
        """Ids carried by one request, on average over the run (0 with nothing to send)."""
        return self.ids / self.requests if self.requests else 0.0

    @property
    def seconds(self) -> float:
        """The least time the requests take at the configured rate (calls may add to it)."""
        return self.requests / self.rate

    @property
    def host(self) -> str:
        """The target's host, with the port when the URL names one."""
        return host_of(self.base_url)

    @property
    def over_limit(self) -> int:
        """How many ids over ``max_delete`` the plan is (0 when within it or no limit is set)."""
        if self.max_delete is None:
            return 0
        return max(0, self.ids - self.max_delete)

    def campaign_list(self, most: int = 5) -> str:
        """``00001, 00002 and 3 more`` for a one-line question."""
        names = sorted(self.campaigns)
        shown = ", ".join(names[:most])
        return shown + (f" and {len(names) - most} more" if len(names) > most else "")

    def question(self) -> str:
        """The confirmation question asked on a terminal."""
        word = "campaign" if len(self.campaigns) == 1 else "campaigns"
        return (
            f"Remove {self.ids} {self.noun} from {word} {self.campaign_list()}"
            f" on {self.host}? [y/N] "
        )

    def lines(self) -> list[str]:
        """The plan for people, a few lines."""
        verb = "resume: send again" if self.resumed else "remove"
        out = [f"plan: {verb} {self.ids} {self.noun} on {self.host} ({self.base_url})"]
        out += [f"  campaign {name}: {count}" for name, count in sorted(self.campaigns.items())]
        if self.selection:
            out += selection_lines(self.selection)
        elif self.input:
            inp = self.input
            out.append(
                f"input: {inp.get('lines', 0)} lines, {inp.get('ids', 0)} ids, "
                f"{inp.get('duplicates', 0)} duplicates, {inp.get('invalid', 0)} invalid"
            )
        least = format_duration(self.seconds)
        out.append(
            f"requests: {self.requests}, {self.ids_per_request:.1f} {self.keys_word} each (at "
            f"most {self.max_url_length} bytes with {self.query_brackets} [] and "
            f"{self.max_ids_per_request} {self.keys_word}); at least {least} "
            f"at {self.rate:g} requests/s, more if records are in calls"
        )
        if self.snapshot:
            out.append(snapshot_line(self.snapshot))
        if self.max_delete is not None:
            verdict = (
                f"{self.over_limit} over: the run is refused" if self.over_limit else "within it"
            )
            out.append(f"max_delete: {self.max_delete}; {self.ids} to send is {verdict}")
        out.append(f"journal: {self.journal}")
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "journal": self.journal,
            "base_url": self.base_url,
            "host": self.host,
            "resumed": self.resumed,
            "target": self.target,
            "campaigns": dict(sorted(self.campaigns.items())),
            "ids": self.ids,
            "requests": self.requests,
            "ids_per_request": round(self.ids_per_request, 2),
            "query_brackets": self.query_brackets,
            "seconds": round(self.seconds, 3),
            "rate": self.rate,
            "max_url_length": self.max_url_length,
            "max_ids_per_request": self.max_ids_per_request,
            "max_delete": self.max_delete,
            "over_max_delete": self.over_limit,
            "input": dict(self.input),
            "selection": dict(self.selection) or None,
            "snapshot": dict(self.snapshot) or None,
        }


def make_plan(journal: Journal, settings: Settings, *, resumed: bool, name: str) -> Plan:
    """Count what a run of ``journal`` would send, from counts of ids by length."""
    states = RESUMED_STATES if resumed else NEW_STATES
    if not settings.base_url:
        raise ConfigError("no API root (base_url) is set")
    root = yarl.URL(settings.base_url).raw_path  # the plan budgets on the exact request path
    kind = kind_of(settings)
    campaigns: dict[str, int] = {}
    requests = 0
    for campaign in journal.campaigns():
        path = kind.path(root, campaign)
        widths = journal.id_widths(states, campaign)
        if widths:
            campaigns[campaign] = sum(widths.values())
            requests += count_batches(
                widths, path, settings.max_url_length, settings.max_ids_per_request, kind.pair
            )
    stored = journal.get_meta("input") or {}
    return Plan(
        journal=name,
        base_url=str(settings.base_url),
        campaigns=campaigns,
        requests=requests,
        rate=settings.rate,
        max_url_length=settings.max_url_length,
        max_ids_per_request=settings.max_ids_per_request,
        resumed=resumed,
        input={} if resumed else {key: int(value) for key, value in stored.items()},
        max_delete=settings.max_delete,
        selection=dict(journal.get_meta("listing") or {}),
        target=kind.name,
        query_brackets=settings.query_brackets,
        snapshot=dict(journal.get_meta("snapshot") or {}),
    )


def selection_lines(listing: dict[str, Any], most: int = 5) -> list[str]:
    """A run by selection for people: its filters, the listing's passes, numbers held back."""
    where = ", ".join(
        f"{key}={'|'.join(value) if isinstance(value, list) else value}"
        for key, value in (listing.get("where") or {}).items()
    )
    passes = listing.get("passes") or []
    pages = sum(int(p.get("pages", 0)) for p in passes)
    out = [
        f"selection: campaign {listing.get('campaign')} where {where}",
        f"listing: {listing.get('count', 0)} records matched; {len(passes)} passes "
        f"({pages} pages, {listing.get('requests', 0)} requests), the last two agreeing",
    ]
    held = listing.get("held_back") or []
    if held:
        shown = "; ".join(f"{h['number']}: {h['reason']}" for h in held[:most])
        more = f"; and {len(held) - most} more" if len(held) > most else ""
        out.append(f"held back: {len(held)} numbers carried by records not selected: {shown}{more}")
    return out


def snapshot_line(snapshot: dict[str, Any]) -> str:
    """The snapshot of a run for people: taken or not, how, and what it costs."""
    state, ways = snapshot.get("state"), snapshot.get("ways") or {}
    if "selection" in ways.values():
        return "snapshot: the selected records as listed (no request of its own)"
    if state == "not_taken":
        reason = snapshot.get("reason") or "not taken"
        hint = "" if snapshot.get("setting") == "off" else "; --snapshot always takes it"
        return f"snapshot: none taken: {reason}{hint}"
    records = snapshot.get("records") or {}
    how = ", ".join(
        f"listing campaign {c} ({records.get(c)} records)" if way == "listing" else
        f"one GET per record of campaign {c}"
        for c, way in sorted(ways.items())
    )  # fmt: skip
    if state == "taken":
        missing = snapshot.get("missing", 0)
        return (
            f"snapshot: taken, {how}: {snapshot.get('found', 0)} records kept, "
            f"{missing} {'key' if missing == 1 else 'keys'} not found"
        )
    reason = f" ({snapshot['reason']})" if snapshot.get("reason") else ""
    if snapshot.get("cost") is None:
        return f"snapshot: taken before the first DELETE, at a cost not known{reason}"
    return f"snapshot: {snapshot['cost']} GETs before the first DELETE, {how}{reason}"


def format_duration(seconds: float) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 07 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def host_of(base_url: str) -> str:
    """The host of ``base_url``, with the port when the URL names one: what a question names."""
    url = yarl.URL(base_url)
    host = f"[{url.host}]" if url.host and ":" in url.host else str(url.host)
    return f"{host}:{url.explicit_port}" if url.explicit_port else host
