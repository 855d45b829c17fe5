"""The bench's outputs: ``bench.json`` (every figure), ``bench.svg`` (a chart), a text table.

The chart is a few panels of horizontal bars written as plain SVG (no plotting library).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tuntas import charts
from tuntas.bench.ceiling import CeilingResult
from tuntas.bench.pipeline import RunResult

Bar = tuple[str, float]


def run_summary(result: RunResult) -> dict[str, Any]:
    spec = result.spec
    return {
        "run_id": result.run_id,
        "applications": spec.applications,
        "kecamatan": len(spec.kecamatan),
        "kecamatan_codes": list(spec.kecamatan),
        "rate": spec.rate,
        "seconds": round(result.seconds, 3),
        "submit_seconds": round(result.submit_seconds, 3),
        "applications_per_second": round(result.per_second, 3),
        "ms_per_application": round(result.ms_per_application, 3),
        "latency_ms": {
            "p50": round(result.percentile(50), 1),
            "p95": round(result.percentile(95), 1),
            "p99": round(result.percentile(99), 1),
            "max": round(max(result.latencies_ms, default=0.0), 1),
            "count": len(result.latencies_ms),
        },
        "stages": [
            {"stage": s.stage, "handed_on": s.handed_on, "per_second": round(s.per_second, 3)}
            for s in result.stages
        ],
        "processes": [
            {
                "name": p.name,
                "cpu_seconds": round(p.cpu_seconds, 2),
                "cpu_ms_per_application": round(1000 * p.cpu_seconds / spec.applications, 2),
                "peak_rss_mb": round(p.peak_rss_mb, 1),
            }
            for p in result.processes
        ],
        "shared_cpu_seconds": {k: round(v, 2) for k, v in result.shared.items()},
        "driver_cpu_seconds": round(result.driver_cpu_seconds, 2),
        "mean_message_bytes": round(result.mean_message_bytes, 1),
        "events_per_application": round(result.messages_per_application, 2),
        "effectively_once": result.checks,
        "profile": {k: [[a, round(p, 1)] for a, p in v] for k, v in result.profile.items()},
    }


def document(
    ceiling: CeilingResult | None,
    main: RunResult | None,
    steady: Sequence[RunResult],
    sweep: Sequence[RunResult],
    machine: dict[str, Any],
) -> dict[str, Any]:
    out: dict[str, Any] = {"machine": machine}
    if ceiling is not None:
        out["ceiling"] = {**asdict(ceiling), "messages_per_second": round(ceiling.per_second, 1)}
    if main is not None:
        out["pipeline"] = run_summary(main)
        if ceiling is not None and ceiling.per_second > 0:
            out["ratio_pipeline_to_ceiling"] = round(main.per_second / ceiling.per_second, 5)
    out["steady_rate"] = [run_summary(r) for r in steady]
    out["scaling"] = [run_summary(r) for r in sweep]
    return out


def write(directory: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "bench.json"
    data.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    chart = directory / "bench.svg"
    chart.write_text(svg(doc), encoding="utf-8")
    return data, chart


# ---------------------------------------------------------------- chart


def svg(doc: dict[str, Any]) -> str:
    panels: list[tuple[str, list[Bar], str]] = []
    ceiling = doc.get("ceiling")
    pipeline = doc.get("pipeline")
    if ceiling or pipeline:
        bars: list[Bar] = []
        if ceiling:
            bars.append(("ceiling: bare 5-hop relay (msg/s)", ceiling["messages_per_second"]))
        if pipeline:
            bars.append(("pipeline end to end (apps/s)", pipeline["applications_per_second"]))
            bars += [(f"stage {s['stage']}", s["per_second"]) for s in pipeline["stages"]]
        panels.append(("Throughput per second (log scale)", bars, "/s"))
    if pipeline:
        lat = pipeline["latency_ms"]
        panels.append(
            (
                f"Latency accepted → ready, {pipeline['applications']} apps at full speed (ms)",
                [(q, lat[q]) for q in ("p50", "p95", "p99")],
                " ms",
            )
        )
    for run in doc.get("steady_rate", []):
        lat = run["latency_ms"]
        panels.append(
            (
                f"Latency at a steady {run['rate']:g} apps/s ({run['applications']} apps, ms)",
                [(q, lat[q]) for q in ("p50", "p95", "p99")],
                " ms",
            )
        )
    if doc.get("scaling"):
        panels.append(
            (
                "Cost growth: ms per application (flat is good)",
                [
                    (
                        f"{r['applications']} apps, {r['kecamatan']} kecamatan",
                        r["ms_per_application"],
                    )
                    for r in doc["scaling"]
                ],
                " ms",
            )
        )
    if doc.get("scale_out"):
        panels.append(
            (
                "Scale-out: applications/s per light stage (processes per stage × brokers)",
                [
                    (f"{stage}, {f['processes_per_stage']} proc × {f['brokers']} broker(s)", rate)
                    for f in doc["scale_out"]
                    for stage, rate in f["light_stages_per_second"].items()
                ],
                "/s",
            )
        )
    if pipeline:
        panels.append(
            (
                "CPU ms per application, per process",
                [(p["name"], p["cpu_ms_per_application"]) for p in pipeline["processes"]],
                " ms",
            )
        )
    return charts.stack(
        "Tuntas — make bench",
        [
            charts.bar_chart(title, [(label, (value,)) for label, value in bars], unit=unit,
                             log=index == 0)
            for index, (title, bars, unit) in enumerate(panels)
        ],
    )  # fmt: skip


# ---------------------------------------------------------------- text


def table(doc: dict[str, Any]) -> str:
    lines = []
    ceiling, pipeline = doc.get("ceiling"), doc.get("pipeline")
    if ceiling:
        lines.append(
            f"ceiling   {ceiling['messages_per_second']:>9.1f} msg/s  bare {ceiling['hops']}-hop"
            f" relay, {ceiling['messages']} × {ceiling['message_bytes']} B"
        )
    if pipeline:
        lat = pipeline["latency_ms"]
        lines.append(
            f"pipeline  {pipeline['applications_per_second']:>9.2f} app/s"
            f"  {pipeline['applications']} apps in {pipeline['seconds']:.1f}s;"
            f" accepted→ready p50 {lat['p50']:.0f} ms,"
            f" p95 {lat['p95']:.0f} ms, p99 {lat['p99']:.0f} ms"
        )
        if "ratio_pipeline_to_ceiling" in doc:
            lines.append(
                f"ratio     {100 * doc['ratio_pipeline_to_ceiling']:>9.3f} %     pipeline apps/s"
                " ÷ ceiling msg/s"
            )
        lines.append("per stage (applications handed on per second):")
        lines += [f"  {s['stage']:<16} {s['per_second']:>9.2f}" for s in pipeline["stages"]]
        lines.append("per process (CPU s in the run, CPU ms/app, peak RSS):")
        lines += [
            f"  {p['name']:<16} {p['cpu_seconds']:>8.1f} s {p['cpu_ms_per_application']:>8.1f} ms"
            f" {p['peak_rss_mb']:>7.1f} MB"
            for p in pipeline["processes"]
        ]
        lines += [f"  {k:<24} {v:>8.1f} s" for k, v in pipeline["shared_cpu_seconds"].items()]
        lines.append(f"  {'bench driver':<16} {pipeline['driver_cpu_seconds']:>8.1f} s")
    for run in doc.get("steady_rate", []):
        lat = run["latency_ms"]
        lines.append(
            f"steady {run['rate']:g}/s: {run['applications']} apps; p50 {lat['p50']:.0f} ms,"
            f" p95 {lat['p95']:.0f} ms, p99 {lat['p99']:.0f} ms;"
            f" {run['applications_per_second']:.2f} app/s end to end"
        )
    if doc.get("scaling"):
        lines.append("cost growth (ms per application, end to end):")
        lines += [
            f"  {r['applications']:>6} apps {r['kecamatan']:>3} kecamatan"
            f" {r['ms_per_application']:>9.1f} ms  {r['applications_per_second']:>7.2f} app/s"
            for r in doc["scaling"]
        ]
    return "\n".join(lines)
