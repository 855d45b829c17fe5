"""The call list of uncollected cards and the outcome of each call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from schemas.values import KecamatanCode
from services.notification import store, workflow
from services.notification.api.models import Call, OutcomeIn, OutcomeOut
from services.notification.clock import Clock
from services.notification.settings import NotificationSettings
from services.runtime.auth import Access, Identity, may_see, own_office
from services.runtime.db import caller_scope
from services.runtime.service import Runtime

BIGINT_MAX = 2**63 - 1  # call ids are PostgreSQL bigints


def router(
    runtime: Runtime,
    settings: NotificationSettings,
    clock: Clock,
    wake_scheduler: Callable[[], None],
    access: Access,
) -> APIRouter:
    api = APIRouter()
    caller_role = access.staff("caller")

    @api.get("/calls")
    async def calls(*, caller: Identity = caller_role, kecamatan: KecamatanCode) -> list[Call]:
        """Whom to call about an uncollected card: number, storage place, contact history.
        Applicants without a phone number are on ``GET /desk-list`` instead."""
        own_office(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            rows = await store.call_tasks(conn, kecamatan, with_phone=True)
            hist = await store.history(conn, [r["application_id"] for r in rows])
        return [Call(**r, history=hist[r["application_id"]]) for r in rows]

    @api.post("/calls/{call_id}/outcome")
    async def outcome(
        *,
        caller: Identity = caller_role,
        call_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],  # larger: no call (was a 500)
        body: OutcomeIn,
    ) -> OutcomeOut:
        """Record a call; the schedule adapts (409 if the call was already closed)."""
        try:
            async with caller_scope(runtime.pool, caller) as conn:
                task = await store.call_task(conn, call_id)
                if task is not None and not may_see(caller, task["kecamatan"]):
                    raise workflow.NotFound(f"no call {call_id}")
                nxt = await workflow.record_outcome(
                    conn,
                    settings,
                    call_id,
                    body.outcome,
                    come_on=body.come_on,
                    officer_id=caller.username,
                    note=body.note,
                    now=clock.now(),
                )
        except workflow.NotFound as e:
            raise HTTPException(404, str(e)) from e
        except workflow.AlreadyClosed as e:
            raise HTTPException(409, str(e)) from e
        wake_scheduler()
        return OutcomeOut(
            call_id=call_id,
            outcome=body.outcome,
            next_contact=nxt.due if nxt else None,
            next_channel=nxt.channel if nxt else None,
        )

    return api
