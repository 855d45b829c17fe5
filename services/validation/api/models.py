"""Request and response bodies of the section head's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from schemas.application import Applicant, ApplicationType, Documents
from schemas.events import Code, StaffId
from schemas.values import ShortText
from services.runtime.auth import token_officer
from services.validation.rules import Finding
from services.validation.store import WorkItem
from services.validation.workflow import Decision

AppId = Annotated[UUID, Path(description="the application id (the events' correlation id)")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no work item for this application"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "already decided (or not the latest revision)"}
}


def not_found(application_id: UUID) -> dict[str, str]:
    return {"error": "not_found", "message": f"no work item for application {application_id}"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApproveBody(_Body):
    staff_id: StaffId = token_officer()
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
    staff_id: StaffId = token_officer()
    revision: int | None = Field(default=None, ge=1)
    reasons: list[Reason] = Field(
        default_factory=list,
        description="what to correct; empty: the item's findings are sent back as reasons",
    )
    note: ShortText | None = None


class RejectBody(_Body):
    staff_id: StaffId = token_officer()
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
    # A section head's decision, or the biometric adjudication that closed the application
    # (workflow.DUPLICATE_CONFIRMED).
    decision: Decision | Literal["duplicate_confirmed"]
    staff_id: str
    automatic: bool
    findings: list[Finding]
    reasons: list[dict[str, Any]]
    note: str | None
    event_message_id: UUID
    decided_at: datetime
