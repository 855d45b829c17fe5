"""The station's HTTP API, one router per staff task: stock, print jobs, activation, station."""

from __future__ import annotations

from fastapi import FastAPI

from services.card_production.api import activation, jobs, station, stock
from services.card_production.workflow import Station
from services.runtime import http, logs, metrics
from services.runtime.auth import Access
from services.runtime.service import Runtime


def create_app(runtime: Runtime, work: Station) -> FastAPI:
    app = FastAPI(
        title=f"Tuntas card production — station {work.kecamatan}",
        description="Encode and print KTP-el at the kecamatan office; blank stock; activation.",
    )
    http.answer_unavailable(app)  # 503 + Retry-After while the database is down
    access = Access.from_env()
    work.api_pool = runtime.pool  # the staff's views and actions use the HTTP app's pool
    for module in (stock, jobs, activation, station):
        app.include_router(module.router(runtime, work, access))
    metrics.mount(app, runtime.health, lambda: _station_gauges(work))
    app.add_middleware(logs.TraceRequests)
    return app


async def _station_gauges(work: Station) -> list[metrics.Gauge]:
    """The station's own figures for /metrics: blanks by state, printer and reader up."""
    snap = await work.snapshot()
    office = {"kecamatan": work.kecamatan}
    return [
        *(
            metrics.Gauge("station_blanks", "Blank cards by state", {**office, "state": s}, n)
            for s, n in snap["blanks"].items()
        ),
        *(
            metrics.Gauge("station_jobs", "Print jobs by state", {**office, "state": s}, n)
            for s, n in snap["queues"].items()
        ),
        metrics.Gauge(
            "station_printer_ready", "1 when the printer accepts jobs", office,
            1.0 if work.printer_state.get("ready") else 0.0,
        ),
        metrics.Gauge(
            "station_reader_ok", "1 when the card reader answers", office,
            1.0 if work.reader_state == "ok" else 0.0,
        ),
    ]  # fmt: skip
