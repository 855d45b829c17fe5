"""The Kepala Seksi Pelayanan's HTTP API: the work queue (:mod:`.queue`) and the decisions
on it (:mod:`.decisions`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from schemas.topics import Topics
from services.runtime.service import Runtime
from services.validation.api import decisions, queue
from services.validation.settings import ValidationSettings


def create_app(runtime: Runtime, settings: ValidationSettings) -> FastAPI:
    app = FastAPI(
        title="Tuntas validation",
        description="The Kepala Seksi Pelayanan's check: approve, send back or reject.",
        version="1",
    )

    @app.get("/health")
    async def health() -> JSONResponse:
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    app.include_router(queue.router(runtime))
    app.include_router(decisions.router(runtime, Topics(settings.connections.tuntas_topic_prefix)))
    return app
