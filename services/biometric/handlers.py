"""Consumed events: ``application.validated`` (queue or skip) and ``application.cancelled``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from schemas.envelope import Envelope
from schemas.events import ApplicationValidated, BiometricsCaptureQueued
from services.biometric import applications, store
from services.biometric.applications import State
from services.biometric.recording import Stage, skip_payloads
from services.runtime.db import Conn
from services.runtime.messages import Emit, PoisonMessage

log = logging.getLogger("tuntas.biometric")

Handler = Callable[[Envelope, Conn], Awaitable[Sequence[Emit]]]


def make_handler(stage: Stage) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        if event.type == "application.validated":
            return await _validated(stage, event, conn)
        if event.type == "application.cancelled":
            await _cancelled(event, conn)
        return []  # everything else on these topics is not this stage's business

    return handle


async def _validated(stage: Stage, event: Envelope, conn: Conn) -> Sequence[Emit]:
    payload = event.payload
    assert isinstance(payload, ApplicationValidated)
    if await applications.exists(conn, event.application_id):
        log.warning(
            "application %s validated again: already handled, ignored", event.application_id
        )
        return []
    existing = await store.record_for_nik(conn, payload.applicant.nik)
    if existing is not None and await applications.record_blocked(conn, existing.record_id):
        # Reusing it would print a card for a suspected or confirmed second identity. No event
        # expresses "held for adjudication" from here: an operator takes it from the DLQ.
        raise PoisonMessage(
            f"the NIK's biometric record {existing.record_id} is a suspected or confirmed"
            " duplicate: not reused for printing; decide the adjudication case first"
        )
    if existing is not None:
        await applications.insert(
            conn,
            application_id=event.application_id,
            kecamatan=event.kecamatan,
            validated=payload,
            validated_message_id=event.message_id,
            state=State.PRINT_READY,
            record_id=existing.record_id,
            skipped=True,
        )
        app = await applications.get(conn, event.application_id)
        assert app is not None
        skipped, ready = await skip_payloads(conn, app, existing, stage.chip_fingers)
        log.info(
            "application %s: already recorded (record %s): biometrics skipped, print ready",
            event.application_id,
            existing.record_id,
        )
        return [stage.emit(event.caused(skipped)), stage.emit(event.caused(ready))]
    await applications.insert(
        conn,
        application_id=event.application_id,
        kecamatan=event.kecamatan,
        validated=payload,
        validated_message_id=event.message_id,
        state=State.QUEUED,
    )
    stage.auto_wakeup.set()
    log.info(
        "application %s queued for recording in kecamatan %s", event.application_id, event.kecamatan
    )
    return [stage.emit(event.caused(BiometricsCaptureQueued()))]


async def _cancelled(event: Envelope, conn: Conn) -> None:
    result = await conn.execute(
        "UPDATE applications SET state = 'cancelled', updated_at = now()"
        " WHERE application_id = $1 AND state IN ('queued', 'duplicate_suspected')",
        event.application_id,
    )
    if result.split()[-1] != "0":
        log.info(
            "application %s cancelled: removed from the biometric queues", event.application_id
        )
