"""The end-of-day report: figures from the events on the topics (and the desk's journal for
what no topic holds), shown in the terminal and written as Markdown and HTML with charts."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.table import Table

from schemas.envelope import Envelope
from schemas.events import ApplicationAccepted
from tuntas.charts import bar_chart
from tuntas.demo import public_voice
from tuntas.demo.autopilot import Journal
from tuntas.demo.scenario import Plan
from tuntas.demo.watch import Seen

# (label, from event, to event): the stage lead times of the report.
STAGES = (
    ("desk → validated", "application.accepted", "application.validated"),
    ("validated → print-ready", "application.validated", "record.print_ready"),
    ("print-ready → printed", "record.print_ready", "card.printed"),
    ("printed → ready", "card.printed", "card.ready_for_collection"),
    ("accepted → ready (total)", "application.accepted", "card.ready_for_collection"),
)

# Event types counted per kecamatan (distinct applications, except where noted).
COUNTED = (
    "application.accepted",
    "application.sent_back",
    "application.validated",
    "biometrics.recorded",
    "biometrics.skipped",
    "record.print_ready",
    "card.waiting_for_stock",
    "card.printed",
    "card.spoiled",
    "card.ready_for_collection",
    "card.activated",
    "card.collected",
    "card.stored_uncollected",
)


@dataclass
class Office:
    kecamatan: str
    name: str
    applicants: int
    refused_at_desk: int
    corrected: int
    counts: dict[str, int]  # event type → distinct applications with that event
    median_total_s: float | None
    on_time: int
    ready: int

    @property
    def on_time_pct(self) -> float:
        return 100.0 * self.on_time / self.ready if self.ready else 0.0


@dataclass
class DayReport:
    run: str
    seed: int
    offices: list[Office]
    stage_s: dict[str, dict[str, float]]  # stage → {"median", "p90", "n"}
    event_counts: dict[str, int]  # every event type on the topics → messages
    sms_sent: int
    sms_by_purpose: dict[str, int]
    calls: int
    deliveries: list[tuple[str, str, int, float]]
    run_outs: list[tuple[str, float]]
    printer_stops: list[tuple[str, float, float]]
    moments: list[tuple[float, str]]
    pdf_dir: str
    pdfs: int
    sms_log: str
    sms_log_lines: int
    elapsed_s: float
    files: dict[str, str] = field(default_factory=dict)
    voice: public_voice.Voice | None = None  # complaints, IKM, the month-so-far report

    def total(self, event_type: str) -> int:
        return sum(o.counts.get(event_type, 0) for o in self.offices)


def _first(events: Iterable[Envelope], event_type: str) -> Envelope | None:
    return next((e for e in events if e.type == event_type), None)


def _last(events: Sequence[Envelope], event_type: str) -> Envelope | None:
    return next((e for e in reversed(events) if e.type == event_type), None)


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"median": 0.0, "p90": 0.0, "n": 0}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p90": p90, "n": len(ordered)}


def _timeline(seen: Seen, app: UUID) -> list[Envelope]:
    return sorted(seen.by_application.get(app, []), key=lambda e: e.occurred_at)


def build(
    plan: Plan,
    seen: Seen,
    journal: Journal,
    *,
    run: str,
    calls: int,
    pdf_dir: Path,
    sms_log: Path,
    names: dict[str, str],
) -> DayReport:
    stage_values: dict[str, list[float]] = {label: [] for label, _, _ in STAGES}
    offices: list[Office] = []
    for office in plan.offices:
        code = office.kecamatan
        apps = {a for a in seen.applications_with("application.accepted", code)}
        counts = {t: len(seen.applications_with(t, code)) for t in COUNTED}
        totals: list[float] = []
        on_time = ready = 0
        for app in apps:
            events = _timeline(seen, app)
            for label, start, end in STAGES:
                # a sent-back file counts from its corrected (last) revision for validation,
                # and from the first acceptance for the total the applicant experiences
                a = _first(events, start) if "total" in label else _last(events, start)
                b = _first(events, end)
                if a is not None and b is not None and b.occurred_at >= a.occurred_at:
                    stage_values[label].append(_seconds(a.occurred_at, b.occurred_at))
            accepted, done = (
                _first(events, "application.accepted"),
                _first(events, "card.ready_for_collection"),
            )
            if accepted is not None and done is not None:
                ready += 1
                totals.append(_seconds(accepted.occurred_at, done.occurred_at))
                assert isinstance(accepted.payload, ApplicationAccepted)
                on_time += done.occurred_at <= accepted.payload.deadline
        offices.append(
            Office(
                kecamatan=code,
                name=names.get(code, code),
                applicants=office.cards,
                refused_at_desk=journal.refused[code],
                corrected=journal.corrected[code],
                counts=counts,
                median_total_s=statistics.median(totals) if totals else None,
                on_time=on_time,
                ready=ready,
            )
        )
    sent = [e for e in seen.events if e.type == "notification.sent"]
    by_purpose: dict[str, int] = {}
    for e in sent:
        purpose = str(getattr(e.payload, "purpose", "?"))
        by_purpose[purpose] = by_purpose.get(purpose, 0) + 1
    lines = sms_log.read_text().count("\n") if sms_log.exists() else 0
    return DayReport(
        run=run,
        seed=plan.seed,
        offices=offices,
        stage_s={label: _spread(values) for label, values in stage_values.items()},
        event_counts=dict(sorted(seen.types().items())),
        sms_sent=len(sent),
        sms_by_purpose=by_purpose,
        calls=calls,
        deliveries=journal.deliveries,
        run_outs=journal.run_outs,
        printer_stops=journal.printer_stops,
        moments=journal.moments,
        pdf_dir=str(pdf_dir),
        pdfs=sum(1 for _ in pdf_dir.rglob("*.pdf")) if pdf_dir.exists() else 0,
        sms_log=str(sms_log),
        sms_log_lines=lines,
        elapsed_s=journal.moments[-1][0] if journal.moments else 0.0,
    )


# ---------------------------------------------------------------- rendering


def charts(report: DayReport) -> dict[str, str]:
    stages = bar_chart(
        "Lead time per stage (seconds)",
        [(label, (v["median"], v["p90"])) for label, v in report.stage_s.items()],
        unit=" s",
        series=("median", "p90"),
    )
    sla = bar_chart(
        "Cards ready within the 1-working-day SLA (%)",
        [(o.name, (o.on_time_pct,)) for o in report.offices],
        unit=" %",
        limit=100.0,
    )
    offices = bar_chart(
        "Per kecamatan: applicants, cards ready, collected",
        [
            (
                o.name,
                (
                    float(o.applicants),
                    float(o.counts["card.ready_for_collection"]),
                    float(o.counts["card.collected"]),
                ),
            )
            for o in report.offices
        ],
        series=("applicants", "ready", "collected"),
    )
    return {"stages": stages, "sla": sla, "offices": offices}


def _office_rows(report: DayReport) -> list[list[str]]:
    rows = []
    for o in report.offices:
        c = o.counts
        rows.append(
            [
                f"{o.name} ({o.kecamatan})",
                str(o.applicants),
                str(o.refused_at_desk),
                str(c["application.sent_back"]),
                str(c["biometrics.recorded"]),
                str(c["biometrics.skipped"]),
                str(c["card.waiting_for_stock"]),
                str(c["card.ready_for_collection"]),
                str(c["card.collected"]),
                str(c["card.stored_uncollected"]),
                "-" if o.median_total_s is None else f"{o.median_total_s:.1f}",
                f"{o.on_time_pct:.0f}",
            ]
        )
    return rows


OFFICE_COLUMNS = (
    "kecamatan",
    "applicants",
    "refused at desk",
    "sent back",
    "recorded",
    "already recorded",
    "waited for blanks",
    "cards ready",
    "collected",
    "left at office",
    "median accepted→ready (s)",
    "SLA on time %",
)


def _happenings(report: DayReport) -> list[str]:
    out = [f"{t:6.1f} s  {text}" for t, text in report.moments]
    return out


def _names(report: DayReport) -> dict[str, str]:
    return {o.kecamatan: o.name for o in report.offices}


def markdown(report: DayReport, chart_files: dict[str, str]) -> str:
    lines = [
        f"# Tuntas demo day — run `{report.run}` (seed {report.seed})",
        "",
        "A simulated working day at the kecamatan offices, run through the real pipeline"
        " (Kafka, PostgreSQL, PC/SC virtual reader, CUPS) with office staff acted by the"
        " autopilot through the staff HTTP APIs. The office day is compressed into minutes;"
        " lead times are real seconds.",
        "",
        "## Offices",
        "",
        "| " + " | ".join(OFFICE_COLUMNS) + " |",
        "|" + "---|" * len(OFFICE_COLUMNS),
        *("| " + " | ".join(r) + " |" for r in _office_rows(report)),
        "",
        "## Lead time per stage",
        "",
        "| stage | median (s) | p90 (s) | applications |",
        "|---|---|---|---|",
        *(
            f"| {label} | {v['median']:.2f} | {v['p90']:.2f} | {v['n']:.0f} |"
            for label, v in report.stage_s.items()
        ),
        "",
        *(f"![{name}]({path})" for name, path in chart_files.items()),
        "",
        "## What happened",
        "",
        "```",
        *_happenings(report),
        "```",
        "",
        f"- Blank deliveries: {len(report.deliveries)}; run-outs: {len(report.run_outs)}.",
        f"- Printer stops: {len(report.printer_stops)}"
        + "".join(f" ({k}: {b:.0f}–{e:.0f} s)" for k, b, e in report.printer_stops),
        f"- SMS sent: {report.sms_sent} "
        + ", ".join(f"{k}: {v}" for k, v in sorted(report.sms_by_purpose.items())),
        f"- On the call list (uncollected cards): {report.calls}",
        "",
        *(public_voice.markdown(report.voice, _names(report)) if report.voice else []),
        "## Where things are",
        "",
        f"- Printed card PDFs ({report.pdfs}): `{report.pdf_dir}`",
        f"- SMS log ({report.sms_log_lines} messages at the SMSC): `{report.sms_log}`",
        "",
        "## Events on the topics",
        "",
        "| event type | messages |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in report.event_counts.items()),
        "",
    ]
    return "\n".join(lines)


def html(report: DayReport, svgs: dict[str, str], md_text: str) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in _office_rows(report)
    )
    head = "".join(f"<th>{escape(c)}</th>" for c in OFFICE_COLUMNS)
    stages = "".join(
        f"<tr><td>{escape(k)}</td><td>{v['median']:.2f}</td><td>{v['p90']:.2f}</td>"
        f"<td>{v['n']:.0f}</td></tr>"
        for k, v in report.stage_s.items()
    )
    events = "".join(
        f"<tr><td>{escape(k)}</td><td>{v}</td></tr>" for k, v in report.event_counts.items()
    )
    happenings = escape("\n".join(_happenings(report)))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Tuntas demo day {escape(report.run)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;
text-align:right}}td:first-child{{text-align:left}}svg{{display:block;margin:1em 0}}</style>
</head><body>
<h1>Tuntas demo day — run {escape(report.run)} (seed {report.seed})</h1>
<p>A simulated working day through the real pipeline (Kafka, PostgreSQL, PC/SC, CUPS); staff
actions by the autopilot through the staff HTTP APIs. Lead times are real seconds.</p>
<h2>Offices</h2><table><tr>{head}</tr>{rows}</table>
{svgs["offices"]}{svgs["sla"]}
<h2>Lead time per stage</h2>
<table><tr><th>stage</th><th>median (s)</th><th>p90 (s)</th><th>n</th></tr>{stages}</table>
{svgs["stages"]}
<h2>What happened</h2><pre>{happenings}</pre>
<p>SMS sent: {report.sms_sent}; on the call list: {report.calls}.
Printed card PDFs ({report.pdfs}): <code>{escape(report.pdf_dir)}</code>.
SMS log ({report.sms_log_lines}): <code>{escape(report.sms_log)}</code>.</p>
{public_voice.html(report.voice, _names(report)) if report.voice else ""}
<h2>Events on the topics</h2><table>{events}</table>
</body></html>
"""


def write(report: DayReport, out: Path) -> dict[str, str]:
    """report.md, report.html, report.json and the chart SVGs under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    svgs = charts(report)
    chart_files = {}
    for name, svg in svgs.items():
        (out / f"{name}.svg").write_text(svg)
        chart_files[name] = f"{name}.svg"
    md_text = markdown(report, chart_files)
    (out / "report.md").write_text(md_text)
    (out / "report.html").write_text(html(report, svgs, md_text))
    data: dict[str, Any] = asdict(report)
    (out / "report.json").write_text(json.dumps(data, indent=2, default=str))
    report.files = {k: str(out / k) for k in ("report.md", "report.html", "report.json")}
    return report.files


# The same columns, short enough for an 80-column terminal.
SHORT_COLUMNS = (
    "office", "apps", "refused", "sent back", "recorded", "skipped", "no blank",
    "ready", "collected", "left", "median s", "SLA %",
)  # fmt: skip


def show(report: DayReport, console: Console) -> None:
    table = Table(title=f"Tuntas demo day — run {report.run}", padding=(0, 0))
    for column in SHORT_COLUMNS:
        table.add_column(column, justify="left" if column == "office" else "right")
    for office, row in zip(report.offices, _office_rows(report), strict=True):
        table.add_row(office.name, *row[1:])
    console.print(table)
    stages = Table(title="Lead time per stage (seconds)")
    for column in ("stage", "median", "p90", "n"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for label, v in report.stage_s.items():
        stages.add_row(label, f"{v['median']:.2f}", f"{v['p90']:.2f}", f"{v['n']:.0f}")
    console.print(stages)
    for line in _happenings(report):
        console.print(line)
    console.print(
        f"SMS sent {report.sms_sent} ({report.sms_log_lines} in the SMSC log {report.sms_log});"
        f" {report.calls} on the call list; {report.pdfs} card PDFs in {report.pdf_dir}"
    )
    for name, path in report.files.items():
        console.print(f"{name}: {path}")
