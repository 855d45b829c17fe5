"""What the desk learns from the other stages: send-backs and rejections from validation,
confirmed duplicates from biometric, the card's arrival and activation from card production.

The desk emits nothing in reply (its own events come from officers' actions over HTTP); it
keeps each application's state for its queues and the public status lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationRejected,
    ApplicationSentBack,
    ApplicationValidated,
    CardActivated,
    CardReadyForCollection,
)
from schemas.states import EVENT_STATE, ApplicationState
from services.intake import store
from services.intake.rules import CLOSING_STATES
from services.runtime.db import Conn
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.intake")
S = ApplicationState


async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
    state = EVENT_STATE.get(event.type)
    if state is None:
        return []  # stock levels, notifications, SLA reports: nothing for the desk
    app = await store.get(conn, event.application_id, for_update=True)
    if app is None:
        log.info("%s for an application this desk does not know; ignored", event.type)
        return []
    current = ApplicationState(app.state)
    if current in CLOSING_STATES:
        log.info("%s after the application ended (%s); ignored", event.type, current)
        return []
    payload = event.payload
    decision = ApplicationSentBack | ApplicationRejected | ApplicationValidated
    if isinstance(payload, decision) and (
        payload.revision != app.revision or current is not S.ACCEPTED
    ):
        log.info(
            "%s for revision %d, desk has revision %d in %s; stale, ignored",
            event.type,
            payload.revision,
            app.revision,
            current,
        )
        return []
    if isinstance(payload, ApplicationSentBack):
        await store.set_state(
            conn,
            app.id,
            S.SENT_BACK,
            sent_back_reasons=[r.model_dump(mode="json") for r in payload.reasons],
            sent_back_at=event.occurred_at,
        )
    elif isinstance(payload, ApplicationRejected):
        await store.set_state(
            conn, app.id, S.REJECTED, active=False, closed_reason=f"rejected:{payload.reason_code}"
        )
    elif state is S.REJECTED:  # biometrics.duplicate_confirmed
        await store.set_state(
            conn, app.id, S.REJECTED, active=False, closed_reason="duplicate_confirmed"
        )
    elif isinstance(payload, CardReadyForCollection):
        await store.set_state(
            conn,
            app.id,
            S.READY_FOR_COLLECTION,
            storage_place=payload.storage_place,
            ready_at=event.occurred_at,
        )
    elif isinstance(payload, CardActivated):
        await store.set_state(
            conn,
            app.id,
            S.ACTIVATED,
            activated_at=event.occurred_at,
            chip_serial=payload.chip_serial,
        )
    elif state is S.SPOILED:  # the card goes back to production; it is no longer at the desk
        await store.set_state(
            conn,
            app.id,
            S.SPOILED,
            storage_place=None,
            ready_at=None,
            activated_at=None,
            chip_serial=None,
        )
    else:
        await store.set_state(conn, app.id, state)
    return []
