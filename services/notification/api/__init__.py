"""HTTP API of the notification stage: one router per staff task, and ``GET /health``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.notification.api import calls, desk, reminders, sla, sms
from services.notification.api.sla import SlaReader
from services.notification.clock import Clock
from services.notification.settings import NotificationSettings
from services.runtime.service import Runtime


def create_app(
    runtime: Runtime,
    settings: NotificationSettings,
    clock: Clock,
    *,
    sla_counts: SlaReader | None,
    wake_scheduler: Callable[[], None],
) -> FastAPI:
    app = FastAPI(title="Tuntas notification", version="1")

    @app.get("/health")
    async def health() -> JSONResponse:
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    app.include_router(sms.router(runtime))
    app.include_router(calls.router(runtime, settings, clock, wake_scheduler))
    app.include_router(desk.router(runtime))
    app.include_router(reminders.router(runtime, settings))
    app.include_router(sla.router(sla_counts))
    return app
