"""The station's HTTP API, one router per staff task: stock, print jobs, activation, station."""

from __future__ import annotations

from fastapi import FastAPI

from services.card_production.api import activation, jobs, station, stock
from services.card_production.workflow import Station
from services.runtime.auth import Access
from services.runtime.service import Runtime


def create_app(runtime: Runtime, work: Station) -> FastAPI:
    app = FastAPI(
        title=f"Tuntas card production — station {work.kecamatan}",
        description="Encode and print KTP-el at the kecamatan office; blank stock; activation.",
    )
    access = Access.from_env()
    for module in (stock, jobs, activation, station):
        app.include_router(module.router(runtime, work, access))
    return app
