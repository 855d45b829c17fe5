"""The section head's decisions on the latest revision of an application.

- ``POST /items/{application_id}/approve`` ⇒ ``application.validated``;
- ``POST /items/{application_id}/send-back`` ⇒ ``application.sent_back`` (to the front desk);
- ``POST /items/{application_id}/reject`` ⇒ ``application.rejected`` (the applicant is told why).

A decision on an item already decided is refused with 409 (its body says who decided what,
when).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException

from schemas.events import SendBackReason
from schemas.topics import Topics
from services.runtime.auth import Access, Identity
from services.runtime.db import caller_scope
from services.runtime.service import Runtime
from services.validation import workflow
from services.validation.api.models import (
    CONFLICT,
    NOT_FOUND,
    AppId,
    ApproveBody,
    DecisionOut,
    RejectBody,
    SendBackBody,
    not_found,
)
from services.validation.api.queue import own_items
from services.validation.workflow import Decision

_RESPONSES = {**CONFLICT, **NOT_FOUND}


def router(runtime: Runtime, topics: Topics, access: Access) -> APIRouter:
    routes = APIRouter()
    kasi = access.staff("kasi")

    async def act(
        caller: Identity,
        application_id: UUID,
        decision: Decision,
        body: ApproveBody | SendBackBody | RejectBody,
        **details: Any,
    ) -> DecisionOut:
        try:
            async with caller_scope(runtime.pool, caller) as conn:
                await own_items(conn, caller, application_id)
                work, decided = await workflow.decide_by_staff(
                    conn,
                    application_id,
                    decision,
                    caller.username,  # the section head is the token's user, not the body's
                    topics,
                    revision=body.revision,
                    note=body.note,
                    **details,
                )
        except workflow.NoSuchItem:
            raise HTTPException(404, not_found(application_id)) from None
        except workflow.AlreadyDecided as e:
            raise HTTPException(409, e.detail()) from None
        except workflow.NoReasons as e:
            raise HTTPException(
                422, [{"loc": ["body", "reasons"], "msg": str(e), "type": "missing"}]
            ) from None
        runtime.relay.wake()
        return DecisionOut(
            application_id=application_id,
            revision=work.revision,
            decision=decision,
            staff_id=caller.username,
            automatic=False,
            event_type=decided.emit.event.type,
            event_message_id=decided.message_id,
            decided_at=decided.decided_at,
        )

    @routes.post(
        "/items/{application_id}/approve", response_model=DecisionOut, responses=_RESPONSES
    )
    async def approve(
        *, caller: Identity = kasi, application_id: AppId, body: ApproveBody
    ) -> DecisionOut:
        """Validated: forward to the SIAK operator (``application.validated``)."""
        return await act(caller, application_id, Decision.APPROVED, body)

    async def send_back(
        *, caller: Identity = kasi, application_id: AppId, body: SendBackBody
    ) -> DecisionOut:
        """Back to the front desk for correction (``application.sent_back``); the corrected
        file returns as a new revision and a new work item."""
        reasons = [SendBackReason(code=r.code, path=r.field, note=r.note) for r in body.reasons]
        return await act(caller, application_id, Decision.SENT_BACK, body, reasons=reasons)

    path = "/items/{application_id}/send-back"
    routes.post(path, response_model=DecisionOut, responses=_RESPONSES)(send_back)
    # The underscore spelling is accepted too (undocumented).
    routes.post(path.replace("-", "_"), response_model=DecisionOut, include_in_schema=False)(
        send_back
    )

    @routes.post("/items/{application_id}/reject", response_model=DecisionOut, responses=_RESPONSES)
    async def reject(
        *, caller: Identity = kasi, application_id: AppId, body: RejectBody
    ) -> DecisionOut:
        """Rejected (``application.rejected``): the applicant is told the reason."""
        return await act(
            caller,
            application_id,
            Decision.REJECTED,
            body,
            reason_code=body.reason_code,
            reason=body.reason,
        )

    return routes
