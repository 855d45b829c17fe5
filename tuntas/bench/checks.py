"""Effectively-once: every application exactly once in each stage's state and in the final topic.

A *source* is one place an application should appear exactly once after a run: a stage's own
state table, the history row of the event the stage hands on, the final topic. The check
compares each source's multiset of application ids with the ids the bench submitted; any id
missing, seen twice or not submitted at all fails the run loudly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from services.runtime import db

# (stage, label, SQL returning one application_id per row); {kec} schemas per station.
CARD_READY_TEMPLATE = "card_ready"
STAGE_SOURCES: Sequence[tuple[str, str, str]] = (
    ("intake", "applications", "SELECT id::text FROM applications"),
    (
        "intake",
        "history application.accepted (out)",
        "SELECT application_id FROM application_history"
        " WHERE state = 'application.accepted' AND direction = 'out'",
    ),
    ("validation", "applications", "SELECT application_id::text FROM applications"),
    ("validation", "decisions", "SELECT application_id::text FROM decisions"),
    (
        "validation",
        "history application.validated (out)",
        "SELECT application_id FROM application_history"
        " WHERE state = 'application.validated' AND direction = 'out'",
    ),
    ("biometric", "applications", "SELECT application_id::text FROM applications"),
    (
        "biometric",
        "history record.print_ready (out)",
        "SELECT application_id FROM application_history"
        " WHERE state = 'record.print_ready' AND direction = 'out'",
    ),
    ("card_production", "jobs", "SELECT application_id::text FROM jobs"),
    (
        "card_production",
        "history card.ready_for_collection (out)",
        "SELECT application_id FROM application_history"
        " WHERE state = 'card.ready_for_collection' AND direction = 'out'",
    ),
    ("notification", "reminders", "SELECT application_id FROM reminders"),
    (
        "notification",
        "card-ready SMS queued",
        f"SELECT application_id FROM sms_outbox WHERE template = '{CARD_READY_TEMPLATE}'",
    ),
    (
        "notification",
        "history card.ready_for_collection (in)",
        "SELECT application_id FROM application_history"
        " WHERE state = 'card.ready_for_collection' AND direction = 'in'",
    ),
)


@dataclass
class SourceResult:
    name: str
    rows: int
    missing: list[str] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected)

    def summary(self) -> str:
        if self.ok:
            return f"{self.name}: {self.rows} rows, each application once"
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing (e.g. {self.missing[:3]})")
        if self.duplicated:
            shown = dict(list(self.duplicated.items())[:3])
            parts.append(f"{len(self.duplicated)} more than once (e.g. {shown})")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} not submitted (e.g. {self.unexpected[:3]})")
        return f"{self.name}: " + "; ".join(parts)


class EffectivelyOnceError(AssertionError):
    def __init__(self, failures: Sequence[SourceResult]) -> None:
        lines = "\n  ".join(f.summary() for f in failures)
        super().__init__(f"effectively-once check FAILED in {len(failures)} place(s):\n  {lines}")
        self.failures = list(failures)


def compare(name: str, expected: Iterable[str], seen: Iterable[str]) -> SourceResult:
    """One source against the submitted ids."""
    want = set(expected)
    counts = Counter(seen)
    return SourceResult(
        name,
        sum(counts.values()),
        missing=sorted(want - counts.keys()),
        duplicated={k: n for k, n in counts.items() if n > 1},
        unexpected=sorted(counts.keys() - want),
    )


def verdict(expected: Iterable[str], sources: Mapping[str, Iterable[str]]) -> list[SourceResult]:
    """Compare every source; raise :class:`EffectivelyOnceError` naming each one that fails."""
    want = set(expected)
    results = [compare(name, want, seen) for name, seen in sources.items()]
    failures = [r for r in results if not r.ok]
    if failures:
        raise EffectivelyOnceError(failures)
    return results


async def stage_sources(dsn: str, station_schemas: Sequence[str]) -> dict[str, list[str]]:
    """Every stage source's application ids (stations' rows are pooled per source)."""
    out: dict[str, list[str]] = {}
    for stage, label, sql in STAGE_SOURCES:
        schemas = station_schemas if stage == "card_production" else [stage]
        ids: list[str] = []
        for schema in schemas:
            conn = await db.connect(dsn, schema)
            try:
                ids += [row[0] for row in await conn.fetch(sql)]
            finally:
                await conn.close()
        out[f"{stage} {label}"] = ids
    return out


async def count_marker(conn: asyncpg.Connection, state: str, direction: str) -> int:
    """How many history rows of one kind a stage has (progress while the run goes)."""
    value = await conn.fetchval(
        "SELECT count(*) FROM application_history WHERE state = $1 AND direction = $2",
        state,
        direction,
    )
    return int(value)
