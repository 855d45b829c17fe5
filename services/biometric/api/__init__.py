"""The biometric stage's HTTP API, one router per staff task: the recording operator
(`recording`), the adjudicating officer (`adjudication`) and the card stations (`stations`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.biometric.api import adjudication, recording, stations
from services.biometric.workflow import Stage
from services.runtime.service import Runtime


def create_app(runtime: Runtime, stage: Stage) -> FastAPI:
    app = FastAPI(
        title="Tuntas biometric stage",
        description="Recording queue, biometric capture, duplicate adjudication, card data.",
        version="1",
    )

    @app.get("/health")
    async def health() -> JSONResponse:
        snapshot = runtime.health.snapshot()
        return JSONResponse(snapshot, status_code=200 if runtime.health.ok else 503)

    for module in (recording, adjudication, stations):
        app.include_router(module.router(runtime, stage))
    return app
