"""The validation stage's work: the section head's decisions and what consumed events do.

- ``application.accepted``: a work item for that revision, with the automatic checks'
  findings; a duplicate (same application and revision) is dropped; older pending revisions
  are superseded. With the auto-approve policy on and no findings, it is approved at once.
- ``application.cancelled``: pending items are closed, the NIK is free again.
- ``card.collected``: the application is finished, the NIK is free again.
- ``biometrics.duplicate_confirmed``: adjudication found the applicant already recorded under
  another identity; the application ends here as rejected (the NIK is free again, no later
  revision is taken), nothing of it stays pending, and the audit records who confirmed it.
- A staff decision (approve, send back, reject) on the latest revision's item emits
  ``application.validated`` / ``application.sent_back`` / ``application.rejected``.

Callers own the transaction: the consume loop for events (it writes the returned events
to the outbox), the HTTP routes for staff decisions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationRejected,
    ApplicationSentBack,
    ApplicationValidated,
    BiometricsDuplicateConfirmed,
    EventPayload,
    SendBackReason,
)
from schemas.topics import Topics
from services.runtime import outbox, status
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.validation import rules, store
from services.validation.settings import ValidationSettings
from services.validation.store import WorkItem

log = logging.getLogger("tuntas.validation")
_WIB = ZoneInfo("Asia/Jakarta")
# The audit's decision for an application closed by the biometric stage's adjudication.
DUPLICATE_CONFIRMED = "duplicate_confirmed"


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


# ---------------------------------------------------------------- staff decisions


class NoSuchItem(LookupError):
    """No work item for the application (HTTP 404)."""


class NoReasons(ValueError):
    """A send-back without reasons on an item without findings (HTTP 422)."""


async def decide_by_staff(
    conn: Conn,
    application_id: UUID,
    decision: Decision,
    staff_id: str,
    topics: Topics,
    *,
    revision: int | None = None,
    reasons: Sequence[SendBackReason] = (),
    reason_code: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> tuple[WorkItem, Decided]:
    """The section head's decision on the latest revision, its event in the outbox.

    A send-back without reasons sends the item's findings back. Call inside a transaction;
    wake the relay after it commits.
    """
    work = await store.latest_item(conn, application_id, lock=True)
    if work is None:
        raise NoSuchItem(f"no work item for application {application_id}")
    check_pending(work, revision)
    if decision is Decision.SENT_BACK:
        reasons = reasons or [
            SendBackReason(code=f.code, path=f.field, note=f.message_id) for f in work.findings
        ]
        if not reasons:
            raise NoReasons("give at least one reason: the item has no findings")
    decided = await decide(
        conn,
        work,
        decision,
        staff_id,
        topics,
        reasons=reasons,
        reason_code=reason_code,
        reason=reason,
        note=note,
    )
    await outbox.enqueue(conn, [decided.emit])
    await status.record(conn, status.transitions(None, [decided.emit.event]))
    return work, decided


# ---------------------------------------------------------------- consumed events


def applied_on(event: Envelope) -> date:
    """The calendar day (in Indonesia) the file was accepted."""
    return event.occurred_at.astimezone(_WIB).date()


async def on_accepted(
    event: Envelope,
    accepted: ApplicationAccepted,
    conn: Conn,
    settings: ValidationSettings,
    topics: Topics,
) -> Sequence[Emit]:
    app_id = event.application_id
    known = await store.application(conn, app_id)
    if known is not None and known.state in rules.CLOSED_STATES:
        log.warning(
            "revision %d of %s ignored: the application is already %s",
            accepted.revision,
            app_id,
            known.state,
        )
        return []
    if known is not None and accepted.revision < known.latest_revision:
        log.warning(
            "revision %d of %s ignored: revision %d came first",
            accepted.revision,
            app_id,
            known.latest_revision,
        )
        return []
    item_id = await store.insert_item(
        conn,
        application_id=app_id,
        kecamatan=event.kecamatan,
        accepted_message_id=event.message_id,
        accepted=accepted,
    )
    if item_id is None:
        log.info("revision %d of %s already has a work item", accepted.revision, app_id)
        return []
    await store.close_pending(conn, app_id, "superseded", below_revision=accepted.revision)
    await store.record_accepted(
        conn,
        app_id,
        kecamatan=event.kecamatan,
        nik=accepted.applicant.nik,
        tracking_number=accepted.tracking_number,
        revision=accepted.revision,
    )
    evidence = rules.Evidence(
        kecamatan=event.kecamatan,
        applied_on=applied_on(event),
        resident=await store.find_resident(conn, accepted.applicant.nik),
        other_active=tuple(await store.other_active(conn, accepted.applicant.nik, app_id)),
    )
    findings = rules.evaluate(accepted, evidence)
    await store.set_findings(conn, item_id, findings)
    log.info(
        "work item for revision %d of %s: %d finding(s)", accepted.revision, app_id, len(findings)
    )
    if findings or not settings.auto_approve:
        return []
    work = await store.item(conn, item_id)
    decided = await decide(
        conn,
        work,
        Decision.APPROVED,
        settings.auto_approve_staff_id,
        topics,
        automatic=True,
        note="auto-approved: no findings (TUNTAS_VALIDATION_AUTO_APPROVE)",
    )
    return [decided.emit]


async def on_cancelled(event: Envelope, conn: Conn) -> None:
    await store.close_pending(conn, event.application_id, "cancelled")
    await store.set_application_state(conn, event.application_id, "cancelled", active=False)


async def on_collected(event: Envelope, conn: Conn) -> None:
    await store.set_application_state(conn, event.application_id, "collected", active=False)


async def on_duplicate_confirmed(
    event: Envelope, confirmed: BiometricsDuplicateConfirmed, conn: Conn
) -> None:
    """End the application here as rejected and write the closure into the audit."""
    app_id = event.application_id
    known = await store.application(conn, app_id, lock=True)
    work = await store.latest_item(conn, app_id)
    if known is None or work is None:
        log.warning("duplicate confirmed for %s, which this stage never saw; ignored", app_id)
        return
    if known.state in rules.ENDED_STATES:
        log.info("duplicate confirmed for %s, already %s; ignored", app_id, known.state)
        return
    # Nothing is pending once an item is validated; a pending one here would mean the events
    # crossed, and the application must not wait in the section head's queue regardless.
    await store.close_pending(conn, app_id, "rejected")
    await store.set_application_state(conn, app_id, "rejected", active=False)
    await store.append_decision(
        conn,
        work,
        decision=DUPLICATE_CONFIRMED,
        staff_id=confirmed.officer_id,
        automatic=False,
        reasons=[{"code": DUPLICATE_CONFIRMED, "path": None, "note": confirmed.case_id}],
        note=f"biometric adjudication case {confirmed.case_id}: the applicant is already"
        " recorded under another identity",
        event_message_id=event.message_id,
    )
    log.info("%s rejected: duplicate confirmed (case %s)", app_id, confirmed.case_id)
