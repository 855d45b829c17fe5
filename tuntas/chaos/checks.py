"""After a day under faults: the checks over the run's database, topics and device outputs.

Each check is a name, a figure and the offending examples; an empty list of problems passes.
- every accepted application ends the day in exactly one end state (collected, or stored at
  the office), and the topics carry exactly one end event for it;
- each effect at most once: an SMS per (application, template) in the notification stage and
  on the SMSC's own log, a card printed per application, a chip personalised per application,
  a blank per serial;
- blank stock conserved: received = used + spoiled + in stock (none left reserved);
- no message in any dead-letter topic;
- each stage's effectively-once sources (:mod:`tuntas.bench.checks`), on their own tables;
- the SLA clock from the events' own times: every breach reported is right.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from schemas.events import SlaBreached
from schemas.topics import Topics
from schemas.workdays import OfficeHours, WorkingCalendar
from tuntas.bench import checks as bench_checks
from tuntas.demo.watch import Seen, Watcher, run_topics
from tuntas.tail import partitions

END_STATES = ("collected", "stored_uncollected")
END_EVENTS = ("card.collected", "card.stored_uncollected")
READY = ("card.ready_for_collection", "card.collected")  # stops the SLA clock
ONCE_PER_APPLICATION = ("card.ready_for_collection", "card.printed", *END_EVENTS)
# Stage sources a demo day legitimately repeats (a file sent back is decided twice).
REPEATING_SOURCES = ("validation decisions",)
# Per revision of a file: a file sent back and corrected is accepted again (its revision 2),
# and told so again; intake's own history then holds one acceptance per revision.
PER_REVISION_SMS = ("file_accepted",)
PER_REVISION_SOURCES = ("intake history application.accepted (out)",)


@dataclass
class Check:
    name: str
    figure: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        shown = "" if self.ok else f": {len(self.problems)} problem(s), e.g. {self.problems[:3]}"
        return f"{mark} {self.name} ({self.figure}){shown}"


def repeated(keys: Iterable[object]) -> list[str]:
    """The keys seen more than once, as ``key ×n``."""
    return [f"{k} ×{n}" for k, n in Counter(keys).items() if n > 1]


def end_states(rows: Sequence[tuple[str, str]], seen: Seen) -> Check:
    """``rows``: (application id, intake state)."""
    problems = [f"{app}: {state}" for app, state in rows if state not in END_STATES]
    for app, state in rows:
        events = [e.type for e in seen.by_application.get(UUID(app), []) if e.type in END_EVENTS]
        if len(events) != 1 or events[0] != f"card.{state}":
            problems.append(f"{app}: intake {state}, end events on the topics {events}")
    return Check(
        "every application in exactly one end state", f"{len(rows)} applications", problems
    )


def once_per_application(seen: Seen) -> Check:
    problems = repeated(
        (e.correlation_id, e.type) for e in seen.events if e.type in ONCE_PER_APPLICATION
    )
    return Check(
        "one ready/printed/end event per application on the topics",
        f"{len(seen.events)} distinct events",
        problems,
    )


def _smsc_log(path: Path) -> list[dict[str, Any]]:
    """The messages the SMSC recorded, one JSON line each."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def sms_once(
    outbox: Sequence[tuple[str, str, str]],
    smsc_log: Path,
    revisions: Mapping[str, int],
    sent_texts: Sequence[tuple[str, str]] = (),
) -> Check:
    """``outbox``: (application, template, source key) of each SMS sent. Reminders repeat by
    design, one per step (their source key says which); a file's acceptance once per
    revision of it (``revisions``: application -> intake's revision count). At the SMSC, no
    (number, text) more often than the outbox sent it (``sent_texts``: its (phone, text) of
    each SMS sent): a corrected file's second "file accepted" SMS reads as the first."""
    keys = [
        (app, template, key if key.startswith("reminder:") else "")
        for app, template, key in outbox
        if template not in PER_REVISION_SMS
    ]
    problems = repeated(keys)
    per_revision = Counter((app, t) for app, t, _ in outbox if t in PER_REVISION_SMS)
    problems += [
        f"{key} ×{n} for {revisions.get(key[0], 1)} revision(s)"
        for key, n in per_revision.items()
        if n > revisions.get(key[0], 1)
    ]
    delivered = _smsc_log(smsc_log)
    at_smsc = Counter((d["destination"], d["text"]) for d in delivered)
    sent = Counter(sent_texts)
    problems += [
        f"SMSC got {n}× what was sent {sent[p]}×: {p}"
        for p, n in at_smsc.items()
        if n > max(sent[p], 1)
    ]
    return Check(
        "each SMS at most once (per application and template; on the SMSC)",
        f"{len(outbox)} sent, {len(delivered)} at the SMSC",
        problems,
    )


def sms_arrived(sent: Sequence[tuple[str, str, Sequence[str]]], smsc_log: Path) -> Check:
    """``sent``: (application, template, the SMSC's message ids) of each SMS the outbox marks
    sent: each of them is on the SMSC's own log (nothing lost between the two)."""
    logged = {i for message in _smsc_log(smsc_log) for i in message["message_ids"]}
    problems = [
        f"{app} {template}: SMSC ids {', '.join(ids) or 'none'} not on its log"
        for app, template, ids in sent
        if not ids or not set(ids) <= logged
    ]
    return Check(
        "every SMS marked sent is on the SMSC's log",
        f"{len(sent) - len(problems)} of {len(sent)}",
        problems,
    )


def cards_once(jobs: Sequence[tuple[str, str | None, str | None]], chip_files: int) -> Check:
    """``jobs``: (application, print job, chip serial) of every station job."""
    printed = [j for j in jobs if j[1]]
    problems = repeated(j[1] for j in printed)
    problems += repeated(j[2] for j in jobs if j[2])
    if chip_files < len([j for j in jobs if j[2]]):
        problems.append(f"{chip_files} chips in the output trays for fewer jobs")
    return Check(
        "a card and a chip per application",
        f"{len(printed)} printed, {chip_files} chips personalised or spoiled",
        problems,
    )


def blanks_conserved(received: int, states: Counter[str], used_by: Sequence[str | None]) -> Check:
    problems = []
    held = sum(states.values())
    if held != received:
        problems.append(f"received {received} blanks, {held} on the books")
    if states.get("reserved", 0):
        problems.append(f"{states['reserved']} blank(s) still reserved")
    problems += [f"application {a} used several blanks" for a in repeated(used_by)]
    figure = (
        f"received {received} = used {states.get('used', 0)} + spoiled"
        f" {states.get('spoiled', 0)} + in stock {states.get('available', 0)}"
    )
    return Check("blank stock conserved, one blank per serial", figure, problems)


def dead_letters(counts: dict[str, int]) -> Check:
    problems = [f"{topic}: {n}" for topic, n in counts.items() if n]
    return Check(
        "no message in a dead-letter topic", f"{sum(counts.values())} dead letters", problems
    )


def sla_clock(seen: Seen, calendar: WorkingCalendar, working_days: int = 1) -> Check:
    """The SLA clock from the events' own times, never the wall clock (an application held
    up by a fault is late only if its events say so): each ``sla.breached`` names the
    deadline of one of the application's acceptances (``working_days`` working days on the
    office calendar) and no card was ready by then. The figure: lead times in working days."""
    problems: list[str] = []
    lead: Counter[int] = Counter()
    zone = calendar.hours.zone
    for app, events in seen.by_application.items():
        accepted = sorted(e.occurred_at for e in events if e.type == "application.accepted")
        ready = sorted(e.occurred_at for e in events if e.type in READY)
        deadlines = {calendar.deadline(at, working_days): at for at in accepted}
        after = [r for r in ready if accepted and r >= accepted[-1]]
        if after:
            start = calendar.clock_start(accepted[-1]).date()
            # A file accepted after hours starts its clock the next working day; a card ready
            # before then (staff worked late) is within 0 working days, not -1.
            days = calendar.working_days_between(start, after[0].astimezone(zone).date())
            lead[max(0, days)] += 1
        for e in events:
            if not isinstance(e.payload, SlaBreached):
                continue
            deadline = e.payload.deadline
            since = deadlines.get(deadline)
            if since is None:
                problems.append(f"{app}: breach of {deadline}, no acceptance has that deadline")
            elif any(since <= r <= deadline for r in ready):
                problems.append(f"{app}: breach of {deadline}, yet a card was ready in time")
    figure = ", ".join(f"{n} in {d} working day(s)" for d, n in sorted(lead.items()))
    return Check("the SLA clock from event times", figure or "no card ready", problems)


def stage_sources(
    submitted: Iterable[str], sources: dict[str, list[str]], revisions: Mapping[str, int]
) -> Check:
    """Every stage's record of every application once; intake's acceptances once per
    revision (``revisions``: application -> intake's revision count)."""
    want = set(submitted)
    results = [
        bench_checks.compare(name, want, ids)
        for name, ids in sources.items()
        if name not in REPEATING_SOURCES and name not in PER_REVISION_SOURCES
    ]
    problems = [r.summary() for r in results if not r.ok]
    for name in PER_REVISION_SOURCES:
        ids = Counter(sources.get(name, []))
        problems += [f"{name}: {app} missing" for app in sorted(want - set(ids))]
        problems += [
            f"{name}: {app} ×{n} for {revisions.get(app, 1)} revision(s)"
            for app, n in ids.items()
            if n > revisions.get(app, 1) or app not in want
        ]
    return Check("each stage's state: every application once", f"{len(results)} sources", problems)


# ------------------------------------------------------------------ gathering


async def read_topics(bootstrap: str, topics: Topics, kecamatan: Sequence[str]) -> Seen:
    """Every distinct event of the run, read from the beginning."""
    watcher = Watcher(bootstrap, run_topics(topics, kecamatan))
    await watcher.start()
    try:
        await watcher.caught_up(timeout=120)
    finally:
        await watcher.stop()
    return watcher.seen


async def dead_letter_counts(
    bootstrap: str, topics: Topics, kecamatan: Sequence[str]
) -> dict[str, int]:
    from aiokafka import AIOKafkaConsumer

    names = [spec.name for spec in topics.specs(list(kecamatan)) if spec.name.endswith(".dlq")]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = await partitions(bootstrap, names)
        starts = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    out: Counter[str] = Counter()
    for tp in parts:
        out[tp.topic] += ends[tp] - starts[tp]
    return dict(out)


async def run_all(
    dsn: str,
    bootstrap: str,
    topics: Topics,
    kecamatan: Sequence[str],
    outputs: Path,
    smsc_log: Path,
) -> list[Check]:
    seen = await read_topics(bootstrap, topics, kecamatan)
    stations = [f"card_production_{k}" for k in kecamatan]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT id::text, state, revision FROM intake.applications")
        apps = [(r[0], r[1]) for r in rows]
        revisions = {r[0]: int(r[2]) for r in rows}
        sent = await conn.fetch(
            "SELECT application_id, template, source_key, smsc_message_ids, phone, text"
            " FROM notification.sms_outbox WHERE status = 'sent'"
        )
        outbox = [(r[0], r[1], r[2]) for r in sent]
        jobs: list[tuple[str, str | None, str | None]] = []
        received = 0
        states: Counter[str] = Counter()
        used_by: list[str | None] = []
        for schema in stations:
            jobs += [
                (r[0], r[1], r[2])
                for r in await conn.fetch(
                    f"SELECT application_id::text, print_job, chip_serial FROM {schema}.jobs"
                )
            ]
            received += int(
                await conn.fetchval(f"SELECT coalesce(sum(count), 0) FROM {schema}.blank_batches")
            )
            for state, n in await conn.fetch(
                f"SELECT state, count(*) FROM {schema}.blanks GROUP BY 1"
            ):
                states[state] += n
            used_by += [
                r[0]
                for r in await conn.fetch(
                    f"SELECT application_id::text FROM {schema}.blanks WHERE state = 'used'"
                )
            ]
    finally:
        await conn.close()
    sources = await bench_checks.stage_sources(dsn, stations)
    chip_files = sum(1 for k in kecamatan for _ in (outputs / "chips" / k / "cards").glob("*.json"))
    return [
        end_states(apps, seen),
        once_per_application(seen),
        sms_once(outbox, smsc_log, revisions, [(r[4], r[5]) for r in sent]),
        sms_arrived([(r[0], r[1], list(r[3] or [])) for r in sent], smsc_log),
        cards_once(jobs, chip_files),
        blanks_conserved(received, states, used_by),
        dead_letters(await dead_letter_counts(bootstrap, topics, kecamatan)),
        stage_sources([a for a, _ in apps], sources, revisions),
        sla_clock(seen, WorkingCalendar(OfficeHours())),
    ]
