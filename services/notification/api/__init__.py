"""HTTP API of the notification stage: one router per staff task, and ``GET /health``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from services.notification.api import calls, desk, reminders, sla, sms
from services.notification.api.sla import SlaReader
from services.notification.clock import Clock
from services.notification.settings import NotificationSettings
from services.runtime import http
from services.runtime.auth import Access
from services.runtime.service import Runtime


def create_app(
    runtime: Runtime,
    settings: NotificationSettings,
    clock: Clock,
    *,
    sla_counts: SlaReader | None,
    wake_scheduler: Callable[[], None],
) -> FastAPI:
    access = Access.from_env()
    return http.app(
        "Tuntas notification",
        "",
        runtime.health,
        [
            sms.router(runtime, access),
            calls.router(runtime, settings, clock, wake_scheduler, access),
            desk.router(runtime, access),
            reminders.router(runtime, settings, access),
            sla.router(sla_counts, access),
        ],
    )
