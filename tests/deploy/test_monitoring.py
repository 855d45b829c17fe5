"""The monitoring resources render valid against the Prometheus operator's CRDs, and every
metric the alert rules and the Grafana dashboard query is one the services expose."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime import http
from services.runtime.health import Health
from tuntas.deploy import cli, validate

pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "tuntas.json"
STATION_API = ROOT / "services" / "card_production" / "api" / "__init__.py"
_NAME = re.compile(r"\btuntas_[a-z_]+")
_SUFFIXES = ("_total", "_bucket", "_count", "_sum")


async def _exposed() -> set[str]:
    """Metric families a stage's GET /metrics declares, and the card station's own gauges."""
    app = http.app("t", "", Health("t"), [])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/health")  # one request, so the latency histogram has a series
        text = (await client.get("/metrics")).text
    names = set(re.findall(r"^# TYPE (\S+)", text, re.MULTILINE))
    calls = [n for n in ast.walk(ast.parse(STATION_API.read_text())) if isinstance(n, ast.Call)]
    station = {
        f"tuntas_{call.args[0].value}"
        for call in calls
        if getattr(call.func, "attr", "") == "Gauge" and isinstance(call.args[0], ast.Constant)
    }
    assert station >= {"tuntas_station_blanks", "tuntas_station_printer_ready"}
    return names | station


def _queried(expr: str) -> set[str]:
    found = set()
    for name in _NAME.findall(expr):
        family = name
        for suffix in _SUFFIXES:
            family = family.removesuffix(suffix)
        found.add(family)
    return found


async def test_alerts_and_dashboard_query_only_exposed_metrics(render: Any) -> None:
    docs = render(values=cli.VALUES_FILES["province"])
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert {
        "TuntasSlaAtRisk",
        "TuntasDeadLettersGrowing",
        "TuntasStationOffline",
        "TuntasConsumerLagGrowing",
    } <= set(alerts)
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exposed = {n.removesuffix("_total") for n in await _exposed()}
    for expr in [*alerts.values(), *panels]:
        assert _queried(expr) <= exposed, expr
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    (stations,) = [d for d in docs if d["kind"] == "ScrapeConfig"]
    assert stations["spec"]["jobName"] == "tuntas-stations"  # what TuntasStationOffline reads
    assert 'job="tuntas-stations"' in alerts["TuntasStationOffline"]


def test_monitoring_resources_are_checked_against_the_operator_crds(render: Any) -> None:
    docs = render(values=cli.VALUES_FILES["province"])
    kinds = {d["kind"] for d in docs}
    assert {"PodMonitor", "ScrapeConfig", "PrometheusRule"} <= kinds
    assert validate.problems(docs) == []
    wrong = render("monitoring.interval=thirty", values=cli.VALUES_FILES["province"])
    found = validate.problems(wrong)
    assert any(f.startswith("PodMonitor/tuntas-stages: spec.podMetricsEndpoints.0") for f in found)
    assert any(f.startswith("ScrapeConfig/tuntas-stations: spec.scrapeInterval") for f in found)


def test_prometheus_may_reach_each_stage(render: Any) -> None:
    docs = render()
    for policy in (d for d in docs if d["kind"] == "NetworkPolicy" and "ingress" in d["spec"]):
        if policy["metadata"]["name"] in {"intake", "abis", "notification"}:
            sources = [f for rule in policy["spec"]["ingress"] for f in rule["from"]]
            selector = {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
            assert {"namespaceSelector": selector} in sources
