"""The section head's (Kepala Seksi Pelayanan) work queue over HTTP.

- ``GET /queue?kecamatan=``: items waiting for a decision, with the automatic findings;
- ``GET /items/{application_id}``: every revision's item of one application;
- ``GET /items/{application_id}/audit``: the decisions taken on it (append-only);
- ``POST /items/{application_id}/approve`` ⇒ ``application.validated``;
- ``POST /items/{application_id}/send-back`` ⇒ ``application.sent_back`` (to the front desk);
- ``POST /items/{application_id}/reject`` ⇒ ``application.rejected`` (the applicant is told why).

Decisions apply to the application's latest revision; a decision on an item already decided
is refused with 409 (its body says who decided what, when).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import FastAPI, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from schemas.application import Applicant, ApplicationType, Documents
from schemas.events import Code, SendBackReason, StaffId
from schemas.topics import Topics
from schemas.values import KecamatanCode, ShortText
from services.runtime import outbox, status
from services.runtime.service import Runtime
from services.validation import store
from services.validation.decisions import AlreadyDecided, Decision, check_pending, decide
from services.validation.models import Finding
from services.validation.settings import ValidationSettings
from services.validation.store import WorkItem


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApproveBody(_Body):
    staff_id: StaffId = Field(description="the section head's staff id")
    revision: int | None = Field(
        default=None, ge=1, description="the revision decided on (refused if not the latest)"
    )
    note: ShortText | None = None


class Reason(_Body):
    code: Code
    field: str | None = Field(
        default=None, max_length=200, description='the field concerned, e.g. "applicant.address.rt"'
    )
    note: ShortText = Field(description="for the front desk, in Bahasa Indonesia")


class SendBackBody(_Body):
    staff_id: StaffId
    revision: int | None = Field(default=None, ge=1)
    reasons: list[Reason] = Field(
        default_factory=list,
        description="what to correct; empty: the item's findings are sent back as reasons",
    )
    note: ShortText | None = None


class RejectBody(_Body):
    staff_id: StaffId
    revision: int | None = Field(default=None, ge=1)
    reason_code: Code
    reason: ShortText = Field(description="told to the applicant")
    note: ShortText | None = None


class Item(BaseModel):
    application_id: UUID
    revision: int
    kecamatan: str
    tracking_number: str
    application_type: ApplicationType
    status: str
    received_at: datetime
    deadline: datetime
    applicant: Applicant
    documents: Documents
    findings: list[Finding]
    decided_by: str | None
    decided_at: datetime | None
    automatic: bool

    @classmethod
    def of(cls, work: WorkItem) -> Item:
        return cls(
            application_id=work.application_id,
            revision=work.revision,
            kecamatan=work.kecamatan,
            tracking_number=work.tracking_number,
            application_type=work.accepted.application_type,
            status=work.status,
            received_at=work.received_at,
            deadline=work.accepted.deadline,
            applicant=work.accepted.applicant,
            documents=work.accepted.documents,
            findings=work.findings,
            decided_by=work.decided_by,
            decided_at=work.decided_at,
            automatic=work.automatic,
        )


class DecisionOut(BaseModel):
    application_id: UUID
    revision: int
    decision: Decision
    staff_id: str
    automatic: bool
    event_type: str
    event_message_id: UUID
    decided_at: datetime


class AuditEntry(BaseModel):
    id: int
    application_id: UUID
    revision: int
    kecamatan: str
    decision: Decision
    staff_id: str
    automatic: bool
    findings: list[Finding]
    reasons: list[dict[str, Any]]
    note: str | None
    event_message_id: UUID
    decided_at: datetime


_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "already decided (or not the latest revision)"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no work item for this application"}
}
AppId = Annotated[UUID, Path(description="the application id (the events' correlation id)")]


def create_app(runtime: Runtime, settings: ValidationSettings) -> FastAPI:
    topics = Topics(settings.connections.tuntas_topic_prefix)
    app = FastAPI(
        title="Tuntas validation",
        description="The Kepala Seksi Pelayanan's check: approve, send back or reject.",
        version="1",
    )

    @app.get("/health")
    async def health() -> JSONResponse:
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    @app.get("/queue", response_model=list[Item])
    async def queue(
        kecamatan: Annotated[KecamatanCode, Query(description="e.g. 350805 or 35.08.05")],
        status_: Annotated[
            Literal[
                "pending", "approved", "sent_back", "rejected", "superseded", "cancelled", "all"
            ],
            Query(alias="status"),
        ] = "pending",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[Item]:
        async with runtime.pool.acquire() as conn:
            items = await store.queue(
                conn, kecamatan, status=None if status_ == "all" else status_, limit=limit
            )
        return [Item.of(w) for w in items]

    @app.get("/items/{application_id}", response_model=list[Item], responses=_NOT_FOUND)
    async def items(application_id: AppId) -> list[Item]:
        async with runtime.pool.acquire() as conn:
            found = await store.items_of(conn, application_id)
        if not found:
            raise HTTPException(404, _no_item(application_id))
        return [Item.of(w) for w in found]

    @app.get("/items/{application_id}/audit", response_model=list[AuditEntry])
    async def audit(application_id: AppId) -> list[AuditEntry]:
        async with runtime.pool.acquire() as conn:
            rows = await store.decisions_of(conn, application_id)
        return [AuditEntry.model_validate(r) for r in rows]

    async def act(
        application_id: UUID,
        decision: Decision,
        staff_id: str,
        revision: int | None,
        *,
        reasons: list[Reason] | None = None,
        reason_code: str | None = None,
        reason: str | None = None,
        note: str | None = None,
    ) -> DecisionOut:
        async with runtime.pool.acquire() as conn, conn.transaction():
            work = await store.latest_item(conn, application_id, lock=True)
            if work is None:
                raise HTTPException(404, _no_item(application_id))
            try:
                check_pending(work, revision)
            except AlreadyDecided as e:
                raise HTTPException(409, e.detail()) from None
            back: list[SendBackReason] = []
            if decision is Decision.SENT_BACK:
                back = [
                    SendBackReason(code=r.code, path=r.field, note=r.note) for r in reasons or []
                ]
                back = back or [
                    SendBackReason(code=f.code, path=f.field, note=f.message_id)
                    for f in work.findings
                ]
                if not back:
                    raise HTTPException(
                        422,
                        [
                            {
                                "loc": ["body", "reasons"],
                                "msg": "give at least one reason: the item has no findings",
                                "type": "missing",
                            }
                        ],
                    )
            decided = await decide(
                conn,
                work,
                decision,
                staff_id,
                topics,
                reasons=back,
                reason_code=reason_code,
                reason=reason,
                note=note,
            )
            await outbox.enqueue(conn, [decided.emit])
            await status.record(conn, status.transitions(None, [decided.emit.event]))
        runtime.relay.wake()
        return DecisionOut(
            application_id=application_id,
            revision=work.revision,
            decision=decision,
            staff_id=staff_id,
            automatic=False,
            event_type=decided.emit.event.type,
            event_message_id=decided.message_id,
            decided_at=decided.decided_at,
        )

    @app.post(
        "/items/{application_id}/approve",
        response_model=DecisionOut,
        responses={**_CONFLICT, **_NOT_FOUND},
    )
    async def approve(application_id: AppId, body: ApproveBody) -> DecisionOut:
        """Validated: forward to the SIAK operator (``application.validated``)."""
        return await act(
            application_id, Decision.APPROVED, body.staff_id, body.revision, note=body.note
        )

    async def send_back(application_id: AppId, body: SendBackBody) -> DecisionOut:
        """Back to the front desk for correction (``application.sent_back``); the corrected
        file returns as a new revision and a new work item."""
        return await act(
            application_id,
            Decision.SENT_BACK,
            body.staff_id,
            body.revision,
            reasons=body.reasons,
            note=body.note,
        )

    app.post(
        "/items/{application_id}/send-back",
        response_model=DecisionOut,
        responses={**_CONFLICT, **_NOT_FOUND},
    )(send_back)
    app.post(
        "/items/{application_id}/send_back", response_model=DecisionOut, include_in_schema=False
    )(send_back)

    @app.post(
        "/items/{application_id}/reject",
        response_model=DecisionOut,
        responses={**_CONFLICT, **_NOT_FOUND},
    )
    async def reject(application_id: AppId, body: RejectBody) -> DecisionOut:
        """Rejected (``application.rejected``): the applicant is told the reason."""
        return await act(
            application_id,
            Decision.REJECTED,
            body.staff_id,
            body.revision,
            reason_code=body.reason_code,
            reason=body.reason,
            note=body.note,
        )

    return app


def _no_item(application_id: UUID) -> dict[str, str]:
    return {
        "error": "not_found",
        "message": f"no work item for application {application_id}",
    }
