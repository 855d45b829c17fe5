"""The monthly performance figures of one kecamatan (or the district), computed from the
pipeline's events, the complaints and the survey responses. Pure: rows in, figures out, so any
past month can be rebuilt from what was recorded."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.service_quality import ikm

# Each stage's span: from the first of ``start`` to the first of ``end`` of one application.
STAGES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("validation", ("application.accepted",), ("application.validated",)),
    ("biometric", ("application.validated",), ("biometrics.recorded", "biometrics.skipped")),
    (
        "card_production",
        ("biometrics.recorded", "biometrics.skipped"),
        ("card.ready_for_collection",),
    ),
    ("total", ("application.accepted",), ("card.ready_for_collection",)),
)


@dataclass(frozen=True)
class Spread:
    count: int
    median: float | None
    p90: float | None


@dataclass
class Figures:
    month: date
    kecamatan: str  # "" for the district
    applications_by_type: dict[str, int] = field(default_factory=dict)
    refusals_by_reason: dict[str, int] = field(default_factory=dict)
    send_backs: int = 0
    send_back_reasons: dict[str, int] = field(default_factory=dict)
    rejections: int = 0
    lead_times: dict[str, Spread] = field(default_factory=dict)
    ready: int = 0
    ready_on_time: int = 0
    sla_breaches: int = 0
    blanks_used: int = 0
    blanks_spoiled: int = 0
    certificates: int = 0
    collected: int = 0
    stored_uncollected: int = 0
    sms: dict[str, int] = field(default_factory=dict)  # "sent:<purpose>" / "failed:<purpose>"
    calls: dict[str, int] = field(default_factory=dict)  # call outcome -> calls (call.logged)
    complaints_by_channel: dict[str, int] = field(default_factory=dict)
    complaint_resolution: dict[str, Spread] = field(default_factory=dict)  # per channel, days
    complaints_open: int = 0
    complaints_escalated: int = 0
    survey: ikm.Index | None = None
    survey_population: int = 0
    survey_minimum: int = 0
    per_kecamatan: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def on_time_pct(self) -> float | None:
        return round(100 * self.ready_on_time / self.ready, 1) if self.ready else None

    @property
    def applications(self) -> int:
        return sum(self.applications_by_type.values())


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(hours: Sequence[float]) -> Spread:
    def r(v: float | None) -> float | None:
        return round(v, 2) if v is not None else None

    return Spread(len(hours), r(percentile(hours, 50)), r(percentile(hours, 90)))


def _in(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment < end


def _first_times(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, datetime]]:
    firsts: dict[str, dict[str, datetime]] = defaultdict(dict)
    for row in rows:
        firsts[row["application_id"]].setdefault(row["type"], row["occurred_at"])
    return firsts


def _first_of(times: dict[str, datetime], types: tuple[str, ...]) -> datetime | None:
    found = [times[t] for t in types if t in times]
    return min(found) if found else None


def compute(
    month: date,
    kecamatan: str,
    start: datetime,
    end: datetime,
    facts: Sequence[dict[str, Any]],
    complaints: Sequence[dict[str, Any]],
    responses: Sequence[dict[str, Any]],
) -> Figures:
    """``facts`` as ``store.facts_for_month`` returns them (in occurrence order)."""
    f = Figures(month, kecamatan)
    in_month = [r for r in facts if _in(r["occurred_at"], start, end)]
    types: Counter[str] = Counter()
    per_kec: dict[str, Counter[str]] = defaultdict(Counter)
    apps: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    sent_back: Counter[str] = Counter()
    sms: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for row in in_month:
        p, kind = row["payload"], row["type"]
        types[kind] += 1
        per_kec[row["kecamatan"]][kind] += 1
        if kind == "application.accepted" and p.get("revision") == 1:
            apps[p["application_type"]] += 1
        elif kind == "application.refused":
            refusals.update(p["problem_codes"])
        elif kind == "application.sent_back":
            sent_back.update(reason["code"] for reason in p["reasons"])
        elif kind == "stock.level" and p["reason"] == "used":
            f.blanks_used += -int(p["change"])
        elif kind in ("notification.sent", "notification.failed"):
            sms[f"{kind.split('.')[1]}:{p['purpose']}"] += 1
        elif kind == "call.logged":
            calls[p["outcome"]] += 1
    f.applications_by_type = dict(sorted(apps.items()))
    f.refusals_by_reason = dict(refusals.most_common())
    f.send_backs = types["application.sent_back"]
    f.send_back_reasons = dict(sent_back.most_common())
    f.rejections = types["application.rejected"]
    f.sla_breaches = types["sla.breached"]
    f.blanks_spoiled = types["card.spoiled"]
    f.certificates = types["certificate.issued"]
    f.collected = types["card.collected"]
    f.stored_uncollected = types["card.stored_uncollected"]
    f.sms = dict(sorted(sms.items()))
    f.calls = dict(sorted(calls.items()))
    f.per_kecamatan = {
        code: {
            "applications": c["application.accepted"],
            "refused": c["application.refused"],
            "ready": c["card.ready_for_collection"],
            "collected": c["card.collected"],
        }
        for code, c in sorted(per_kec.items())
    }
    _lead_times(f, facts, start, end)
    _complaints(f, complaints)
    f.survey = ikm.index_of([r["scores"] for r in responses])
    f.survey_population = apps.total()
    f.survey_minimum = ikm.minimum_sample(f.survey_population)
    return f


def _lead_times(
    f: Figures, facts: Sequence[dict[str, Any]], start: datetime, end: datetime
) -> None:
    firsts = _first_times(facts)
    deadlines = {
        r["application_id"]: datetime.fromisoformat(r["payload"]["deadline"])
        for r in reversed(facts)  # the first acceptance's deadline wins
        if r["type"] == "application.accepted"
    }
    spans: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for app, times in firsts.items():
        ready = times.get("card.ready_for_collection")
        if ready is None or not _in(ready, start, end):
            continue
        f.ready += 1
        if app in deadlines and ready <= deadlines[app]:
            f.ready_on_time += 1
        for name, begin, finish in STAGES:
            a, b = _first_of(times, begin), _first_of(times, finish)
            if a is not None and b is not None and b >= a:
                spans[name].append((b - a).total_seconds() / 3600)
    f.lead_times = {name: spread(hours) for name, hours in spans.items()}


def _complaints(f: Figures, complaints: Sequence[dict[str, Any]]) -> None:
    channels: Counter[str] = Counter(c["channel"] for c in complaints)
    f.complaints_by_channel = dict(sorted(channels.items()))
    days: dict[str, list[float]] = defaultdict(list)
    for c in complaints:
        if c["closed_at"] is not None:
            days[c["channel"]].append((c["closed_at"] - c["received_at"]).total_seconds() / 86400)
    f.complaint_resolution = {channel: spread(days[channel]) for channel in f.complaints_by_channel}
    f.complaints_open = sum(1 for c in complaints if c["closed_at"] is None)
    f.complaints_escalated = sum(1 for c in complaints if c["escalated_at"] is not None)


# Where an application is after each of these events (None: it left the pipeline).
PLACE: dict[str, str | None] = {
    "application.accepted": "validation",
    "application.sent_back": "corrections",
    "application.validated": "biometric",
    "biometrics.recorded": "card_production",
    "biometrics.skipped": "card_production",
    "card.ready_for_collection": "ready",
    "card.collected": None,
    "card.stored_uncollected": None,
    "application.rejected": None,
}


@dataclass
class Now:
    """The pipeline at one moment: applications in each place, the open ones past their
    promised date (stuck), and each office's blank stock as last reported."""

    at: datetime
    in_stage: dict[str, int]
    stuck: int
    blanks: dict[str, int]


def now(at: datetime, facts: Sequence[dict[str, Any]]) -> Now:
    """``facts`` in occurrence order, far enough back to hold every open application."""
    place: dict[str, str | None] = {}
    deadline: dict[str, datetime] = {}
    blanks: dict[str, int] = {}
    for row in facts:
        kind, app = row["type"], row["application_id"]
        if kind in PLACE:
            place[app] = PLACE[kind]
        if kind == "application.accepted":
            deadline.setdefault(app, datetime.fromisoformat(row["payload"]["deadline"]))
        elif kind == "stock.level":
            blanks[row["kecamatan"]] = int(row["payload"]["blanks_available"])
    counts = Counter(p for p in place.values() if p is not None)
    stuck = sum(
        1
        for app, p in place.items()
        if p not in (None, "ready") and app in deadline and deadline[app] < at
    )
    in_stage = {name: counts[name] for name in dict.fromkeys(PLACE.values()) if name}
    return Now(at, in_stage, stuck, dict(sorted(blanks.items())))


def csv_rows(f: Figures) -> list[tuple[str, str, str]]:
    """(section, item, value) rows: the report as a flat table."""
    rows: list[tuple[str, str, str]] = [("report", "month", f"{f.month:%Y-%m}")]
    rows.append(("report", "kecamatan", f.kecamatan or "district"))
    rows += [("applications", k, str(v)) for k, v in f.applications_by_type.items()]
    rows += [("refusals", k, str(v)) for k, v in f.refusals_by_reason.items()]
    rows.append(("send_backs", "total", str(f.send_backs)))
    rows += [("send_backs", k, str(v)) for k, v in f.send_back_reasons.items()]
    rows.append(("rejections", "total", str(f.rejections)))
    for name, s in f.lead_times.items():
        rows += [
            ("lead_time_h", f"{name}.count", str(s.count)),
            ("lead_time_h", f"{name}.median", _num(s.median)),
            ("lead_time_h", f"{name}.p90", _num(s.p90)),
        ]
    rows += [
        ("sla", "ready", str(f.ready)),
        ("sla", "on_time", str(f.ready_on_time)),
        ("sla", "on_time_pct", _num(f.on_time_pct)),
        ("sla", "breaches", str(f.sla_breaches)),
        ("blanks", "used", str(f.blanks_used)),
        ("blanks", "spoiled", str(f.blanks_spoiled)),
        ("certificates", "issued", str(f.certificates)),
        ("cards", "collected", str(f.collected)),
        ("cards", "stored_uncollected", str(f.stored_uncollected)),
    ]
    rows += [("sms", k, str(v)) for k, v in f.sms.items()]
    rows.append(("calls", "total", str(sum(f.calls.values()))))
    rows += [("calls", k, str(v)) for k, v in f.calls.items()]
    rows += [("complaints", k, str(v)) for k, v in f.complaints_by_channel.items()]
    for channel, s in f.complaint_resolution.items():
        rows += [
            ("complaint_days", f"{channel}.median", _num(s.median)),
            ("complaint_days", f"{channel}.p90", _num(s.p90)),
        ]
    rows += [
        ("complaints", "open", str(f.complaints_open)),
        ("complaints", "escalated", str(f.complaints_escalated)),
        ("ikm", "responses", str(f.survey.responses if f.survey else 0)),
        ("ikm", "minimum_sample", str(f.survey_minimum)),
    ]
    if f.survey is not None:
        rows += [("ikm", "index", f"{f.survey.index:.2f}"), ("ikm", "grade", f.survey.grade)]
        rows += [
            ("ikm", code, f"{mean:.3f}")
            for (code, _), mean in zip(ikm.ELEMENTS, f.survey.element_means, strict=True)
        ]
        rows.append(("ikm", "lowest", " ".join(f.survey.lowest)))
    for code, counts in f.per_kecamatan.items():
        rows += [(f"kecamatan.{code}", k, str(v)) for k, v in counts.items()]
    return rows


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
