"""The office's complaint desk: key in telephone and suggestion-box complaints, acknowledge,
follow up (closing with the outcome, told to the complainant), and the overdue list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from schemas.values import KecamatanCode
from services.runtime import db
from services.runtime.auth import Access, Identity, own_office
from services.runtime.service import Runtime
from services.service_quality import rules, store, workflow
from services.service_quality.api.models import (
    Acknowledge,
    FollowUp,
    StaffComplaint,
    Ticket,
    TicketOut,
)


def router(runtime: Runtime, ctx: workflow.Context, access: Access) -> APIRouter:
    desk = access.staff("desk", "camat")

    def office_staff(kecamatan: KecamatanCode, caller: Identity = desk) -> Identity:
        """Every route here is an office's (``{kecamatan}``): its own staff only, else 403."""
        own_office(caller, kecamatan)
        return caller

    staff = Depends(office_staff)
    api = APIRouter(tags=["complaints"], dependencies=[staff])

    @api.post("/offices/{kecamatan}/complaints", status_code=201)
    async def key_in(
        *, caller: Identity = staff, kecamatan: KecamatanCode, body: StaffComplaint
    ) -> TicketOut:
        if body.channel not in rules.STAFF_CHANNELS:
            raise HTTPException(
                422,
                [
                    {
                        "loc": ["body", "channel"],
                        "msg": "staff key in telephone and suggestion_box complaints only",
                        "type": "value_error",
                    }
                ],
            )
        new = body.draft(kecamatan, body.channel, body.received_at)
        async with runtime.pool.acquire() as conn, conn.transaction():
            await db.scoped(conn, kecamatan)
            row = await workflow.receive(conn, ctx, new, caller.username)
        return TicketOut(ticket=row["ticket"], follow_up_due=row["follow_up_due"])

    @api.get("/offices/{kecamatan}/complaints")
    async def queue(
        kecamatan: KecamatanCode,
        status: rules.Status | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await db.scoped(conn, kecamatan)
            return await store.complaints(
                conn, kecamatan=kecamatan, status=status.value if status else None, limit=limit
            )

    @api.get("/offices/{kecamatan}/complaints/overdue")
    async def overdue(kecamatan: KecamatanCode) -> list[dict[str, Any]]:
        """Open complaints past their follow-up deadline (escalated to the camat)."""
        async with runtime.pool.acquire() as conn, conn.transaction():
            await db.scoped(conn, kecamatan)
            return await store.complaints(conn, kecamatan=kecamatan, overdue_at=ctx.clock.now())

    @api.get("/offices/{kecamatan}/complaints/{ticket}")
    async def one(kecamatan: KecamatanCode, ticket: Ticket) -> dict[str, Any]:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await db.scoped(conn, kecamatan)  # another office's ticket is not found
            try:
                return await workflow.details(conn, ticket)
            except workflow.NotFound as e:
                raise HTTPException(404, str(e)) from None

    @api.post("/offices/{kecamatan}/complaints/{ticket}/acknowledge")
    async def acknowledge(
        *, caller: Identity = staff, kecamatan: KecamatanCode, ticket: Ticket, body: Acknowledge
    ) -> dict[str, Any]:
        return await _act(workflow.acknowledge, kecamatan, ticket, caller.username, body.note)

    @api.post("/offices/{kecamatan}/complaints/{ticket}/follow-up")
    async def follow_up(
        *, caller: Identity = staff, kecamatan: KecamatanCode, ticket: Ticket, body: FollowUp
    ) -> dict[str, Any]:
        return await _act(workflow.follow_up, kecamatan, ticket, caller.username, body.outcome)

    async def _act(action: Any, kecamatan: str, ticket: str, *args: Any) -> dict[str, Any]:
        try:
            async with runtime.pool.acquire() as conn, conn.transaction():
                await db.scoped(conn, kecamatan)
                row: dict[str, Any] = await action(conn, ctx, ticket, kecamatan, *args)
        except workflow.NotFound as e:
            raise HTTPException(404, str(e)) from None
        except workflow.Conflict as e:
            raise HTTPException(409, str(e)) from None
        runtime.relay.wake()  # a follow-up may have emitted complaint.answered
        return row

    return api
