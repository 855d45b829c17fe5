"""HTTP API of the notification stage: opt-out, message status, the office call list, SLA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from schemas.values import KecamatanCode
from services.notification import rules, store
from services.notification.settings import NotificationSettings
from services.runtime.service import Runtime

SmsStatus = Literal["pending", "sent", "failed", "skipped", "cancelled"]
AppId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


class OutcomeIn(BaseModel):
    outcome: rules.Outcome
    come_on: date | None = Field(default=None, description="required for will_come_on")
    officer_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _date_for_will_come_on(self) -> OutcomeIn:
        if self.outcome is rules.Outcome.WILL_COME_ON and self.come_on is None:
            raise ValueError("come_on is required when outcome is will_come_on")
        return self


class Call(BaseModel):
    id: int
    application_id: str
    kecamatan: str
    name: str | None
    phone: str | None
    tracking_number: str | None
    storage_place: str | None
    ready_at: datetime | None
    due_at: datetime
    history: list[dict[str, Any]]


SlaReader = Callable[[str | None], dict[str, Any]]


def create_app(
    runtime: Runtime,
    settings: NotificationSettings,
    clock: rules.Clock,
    *,
    sla: SlaReader | None = None,
    wake_scheduler: Callable[[], None] | None = None,
) -> FastAPI:
    app = FastAPI(title="Tuntas notification", version="1")

    @app.get("/health")
    async def health() -> JSONResponse:
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    @app.post("/contacts/{application_id}/opt-out")
    async def opt_out(application_id: AppId) -> dict[str, Any]:
        """The applicant does not want SMS or calls; idempotent."""
        async with runtime.pool.acquire() as conn, conn.transaction():
            found = await store.opt_out(conn, application_id.lower())
        if not found:
            raise HTTPException(404, f"no contact for application {application_id}")
        return {"application_id": application_id.lower(), "opted_out": True}

    @app.get("/messages")
    async def messages(
        status: SmsStatus | None = None,
        kecamatan: KecamatanCode | None = None,
        application_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """SMS and their delivery state; ``status=failed`` lists what needs attention."""
        async with runtime.pool.acquire() as conn:
            return await store.messages(
                conn,
                status=status,
                kecamatan=kecamatan,
                application_id=application_id,
                limit=limit,
            )

    @app.get("/calls")
    async def calls(kecamatan: KecamatanCode) -> list[Call]:
        """Whom to call about an uncollected card: number, storage place, contact history."""
        async with runtime.pool.acquire() as conn:
            rows = await store.calls(conn, kecamatan)
            hist = await store.history(conn, [r["application_id"] for r in rows])
        return [Call(**r, history=hist[r["application_id"]]) for r in rows]

    @app.get("/desk-flags")
    async def desk_flags(kecamatan: KecamatanCode) -> list[dict[str, Any]]:
        """Applications with a wrong phone number: the front desk must find the applicant."""
        async with runtime.pool.acquire() as conn:
            return await store.desk_flags(conn, kecamatan)

    @app.post("/calls/{call_id}/outcome")
    async def outcome(call_id: int, body: OutcomeIn) -> dict[str, Any]:
        """Record a call; the schedule adapts (409 if the call was already closed)."""
        now = clock.now()
        async with runtime.pool.acquire() as conn, conn.transaction():
            task = await store.call_task(conn, call_id)
            if task is None:
                raise HTTPException(404, f"no call {call_id}")
            if task["status"] != "open":
                raise HTTPException(409, f"call {call_id} is already {task['status']}")
            app_id = task["application_id"]
            rem = await store.reminder(conn, app_id, lock=True)
            await store.close_call(
                conn, call_id, body.outcome.value, body.come_on, body.officer_id, body.note, now
            )
            detail = body.come_on.isoformat() if body.come_on else body.note
            await store.log_contact(conn, app_id, now, "phone_call", body.outcome.value, detail)
            nxt: rules.Next | None = None
            if body.outcome is rules.Outcome.WRONG_NUMBER:
                await store.flag_wrong_number(conn, app_id)
            elif rem is not None and rem["state"] == "active":
                hours = settings.office(task["kecamatan"]).hours
                nxt = rules.after_outcome(
                    body.outcome,
                    schedule=settings.reminders,
                    hours=hours,
                    ready_at=rem["ready_at"],
                    step=rem["step"],
                    now=now,
                    come_on=body.come_on,
                )
                await store.reschedule(conn, app_id, nxt, fired=False)
        if wake_scheduler is not None:
            wake_scheduler()
        return {
            "call_id": call_id,
            "outcome": body.outcome.value,
            "next_contact": nxt.due if nxt else None,
            "next_channel": nxt.channel.value if nxt else None,
        }

    @app.get("/sla")
    async def sla_counts(kecamatan: KecamatanCode | None = None) -> dict[str, Any]:
        """Live counts per kecamatan: open (deadline not passed), on time, late."""
        if sla is None:
            raise HTTPException(503, "the status timeline is not running")
        return sla(kecamatan)

    return app
