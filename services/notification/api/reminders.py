"""The uncollected-card reminder schedule and when each open reminder falls due (read-only)."""

from __future__ import annotations

from fastapi import APIRouter

from schemas.values import KecamatanCode
from services.notification import store
from services.notification.api.models import OpenReminder, ScheduleOut
from services.notification.settings import NotificationSettings
from services.runtime.auth import Access, Identity, own_office
from services.runtime.db import caller_scope
from services.runtime.service import Runtime


def router(runtime: Runtime, settings: NotificationSettings, access: Access) -> APIRouter:
    api = APIRouter()
    readers = access.staff("caller", "desk", "camat")

    @api.get("/schedule")
    async def schedule(*, caller: Identity = readers, kecamatan: KecamatanCode) -> ScheduleOut:
        """The reminder schedule, and the next contact of every card not yet collected."""
        own_office(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            rows = await store.active_reminders(conn, kecamatan)
        return ScheduleOut(schedule=settings.reminders, reminders=[OpenReminder(**r) for r in rows])

    return api
