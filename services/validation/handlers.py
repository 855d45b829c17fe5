"""What the validation stage does with intake's events (plain functions; no Kafka here).

- ``application.accepted``: a work item for that revision, with the automatic checks'
  findings; a duplicate (same application and revision) is dropped; older pending revisions
  are superseded. With the auto-approve policy on and no findings, it is approved at once.
- ``application.cancelled``: pending items are closed, the NIK is free again.
- ``card.collected``: the application is finished, the NIK is free again.
Anything else on intake's topic is not this stage's business.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from schemas.envelope import Envelope
from schemas.events import ApplicationAccepted, ApplicationCancelled, CardCollected
from schemas.topics import Topics
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.validation import registry, rules, store
from services.validation.decisions import Decision, decide
from services.validation.settings import ValidationSettings

log = logging.getLogger("tuntas.validation")
_WIB = ZoneInfo("Asia/Jakarta")

Handler = Callable[[Envelope, Conn], Awaitable[Sequence[Emit]]]


def applied_on(event: Envelope) -> date:
    """The calendar day (in Indonesia) the file was accepted."""
    return event.occurred_at.astimezone(_WIB).date()


def make_handler(settings: ValidationSettings, topics: Topics) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        payload = event.payload
        if isinstance(payload, ApplicationAccepted):
            return await on_accepted(event, payload, conn, settings, topics)
        if isinstance(payload, ApplicationCancelled):
            await store.close_pending(conn, event.application_id, "cancelled")
            await store.set_application_state(conn, event.application_id, "cancelled", active=False)
        elif isinstance(payload, CardCollected):
            await store.set_application_state(conn, event.application_id, "collected", active=False)
        return []

    return handle


async def on_accepted(
    event: Envelope,
    accepted: ApplicationAccepted,
    conn: Conn,
    settings: ValidationSettings,
    topics: Topics,
) -> Sequence[Emit]:
    app_id = event.application_id
    known = await store.application(conn, app_id)
    if known is not None and known.state in store.CLOSED_STATES:
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
        resident=await registry.find_resident(conn, accepted.applicant.nik),
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
