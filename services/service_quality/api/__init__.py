"""HTTP API of the service quality stage: one router per task, and ``GET /health``.

Public (no login): the complaint form (``/pengaduan``) and the survey pages (``/survey/…``).
Staff: the complaint desk and the performance reports; district IT: the mailbox's intake log."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.runtime import http
from services.runtime.auth import Access
from services.runtime.service import Runtime
from services.service_quality import workflow
from services.service_quality.api import complaints, mailbox, performance, public, survey


def create_app(runtime: Runtime, ctx: workflow.Context) -> FastAPI:
    app = FastAPI(title="Tuntas service quality", version="1")
    http.answer_unavailable(app)  # 503 + Retry-After while the database is down

    @app.get("/health")
    async def health() -> JSONResponse:
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    app.include_router(public.router(runtime, ctx))
    app.include_router(survey.router(runtime, ctx))
    access = Access.from_env()
    app.include_router(complaints.router(runtime, ctx, access))
    app.include_router(performance.router(runtime, ctx, access))
    app.include_router(mailbox.router(runtime, ctx, access))
    return app
