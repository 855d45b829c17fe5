"""The section head's decision on a work item: the event it emits, its state and audit rows.

Used by the HTTP actions and by the auto-approve policy; the caller owns the transaction and
writes the returned ``Emit`` to the outbox in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationRejected,
    ApplicationSentBack,
    ApplicationValidated,
    EventPayload,
    SendBackReason,
)
from schemas.topics import Topics
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.validation import store
from services.validation.store import WorkItem


class Decision(StrEnum):
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    REJECTED = "rejected"


class AlreadyDecided(Exception):
    """A decision on an item that is not waiting for one (HTTP 409)."""

    def __init__(self, work: WorkItem, message: str) -> None:
        super().__init__(message)
        self.work = work

    def detail(self) -> dict[str, Any]:
        w = self.work
        return {
            "error": "already_decided",
            "message": str(self),
            "application_id": str(w.application_id),
            "revision": w.revision,
            "status": w.status,
            "decided_by": w.decided_by,
            "decided_at": w.decided_at.isoformat() if w.decided_at else None,
            "automatic": w.automatic,
        }


def check_pending(work: WorkItem, revision: int | None) -> None:
    """Raise :class:`AlreadyDecided` unless ``work`` waits for a decision (on ``revision``)."""
    if revision is not None and revision != work.revision:
        raise AlreadyDecided(
            work,
            f"revision {revision} is not the latest; the latest is revision {work.revision}"
            f" ({work.status})",
        )
    if work.status != store.PENDING:
        by = f" by {work.decided_by}" if work.decided_by else ""
        when = f" at {work.decided_at.isoformat()}" if work.decided_at else ""
        auto = " (automatically)" if work.automatic else ""
        raise AlreadyDecided(
            work,
            f"revision {work.revision} of this application is already {work.status}"
            f"{by}{when}{auto}; nothing to decide",
        )


def decision_payload(
    work: WorkItem,
    decision: Decision,
    staff_id: str,
    *,
    reasons: Sequence[SendBackReason] = (),
    reason_code: str | None = None,
    reason: str | None = None,
) -> EventPayload:
    """The event a decision emits. ``application.validated`` carries the validated applicant
    (NIK and type for biometrics; the card face data for card production)."""
    accepted = work.accepted
    if decision is Decision.APPROVED:
        return ApplicationValidated(
            revision=work.revision,
            tracking_number=accepted.tracking_number,
            application_type=accepted.application_type,
            applicant=accepted.applicant,
            officer_id=staff_id,
        )
    if decision is Decision.SENT_BACK:
        return ApplicationSentBack(
            revision=work.revision, reasons=tuple(reasons), officer_id=staff_id
        )
    if reason_code is None or reason is None:
        raise ValueError("a rejection needs a reason code and a reason")
    return ApplicationRejected(
        revision=work.revision, reason_code=reason_code, reason=reason, officer_id=staff_id
    )


@dataclass(frozen=True)
class Decided:
    emit: Emit
    decided_at: datetime

    @property
    def message_id(self) -> UUID:
        return self.emit.event.message_id


async def decide(
    conn: Conn,
    work: WorkItem,
    decision: Decision,
    staff_id: str,
    topics: Topics,
    *,
    automatic: bool = False,
    reasons: Sequence[SendBackReason] = (),
    reason_code: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Decided:
    """Record the decision (item, application, audit) and return the event to publish.

    Call inside a transaction, with the item locked (``store.latest_item(lock=True)``) or
    just created; ``check_pending`` first.
    """
    payload = decision_payload(
        work, decision, staff_id, reasons=reasons, reason_code=reason_code, reason=reason
    )
    envelope = Envelope.new(
        payload,
        application_id=work.application_id,
        kecamatan=work.kecamatan,
        causation_id=work.accepted_message_id,
    )
    await store.mark_decided(conn, work.id, decision.value, staff_id, automatic=automatic)
    await store.set_application_state(
        conn,
        work.application_id,
        decision.value if decision is not Decision.APPROVED else "validated",
        active=decision is not Decision.REJECTED,
    )
    audit_reasons: list[dict[str, Any]] = [r.model_dump(mode="json") for r in reasons]
    if decision is Decision.REJECTED:
        audit_reasons = [{"code": reason_code, "path": None, "note": reason}]
    decided_at = await store.append_decision(
        conn,
        work,
        decision=decision.value,
        staff_id=staff_id,
        automatic=automatic,
        reasons=audit_reasons,
        note=note,
        event_message_id=envelope.message_id,
    )
    return Decided(Emit(topics.for_event(envelope.type, envelope.kecamatan), envelope), decided_at)
