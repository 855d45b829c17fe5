"""What the desk learns from the other stages: send-backs and rejections from validation,
confirmed duplicates from biometric, the card's arrival and activation from card production.

The desk emits nothing in reply (its own events come from officers' actions over HTTP); it
keeps each application's state for its queues and the public status lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationRejected,
    ApplicationSentBack,
    ApplicationValidated,
    CardActivated,
    CardReadyForCollection,
)
from schemas.states import EVENT_STATE, ApplicationState
from services.intake import rules, store
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
    if rules.is_late(current, event.type):
        log.info("%s after the desk has %s (a later stage's news came first); ignored",
                 event.type, current)  # fmt: skip
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
    new_state, fields = _change(event, state)
    await store.set_state(conn, app.id, new_state, **fields)
    return []


def _change(event: Envelope, state: ApplicationState) -> tuple[ApplicationState, dict[str, Any]]:
    """The desk's new state for ``event`` and the columns it sets with it."""
    payload = event.payload
    if isinstance(payload, ApplicationSentBack):
        reasons = [r.model_dump(mode="json") for r in payload.reasons]
        return S.SENT_BACK, {"sent_back_reasons": reasons, "sent_back_at": event.occurred_at}
    if isinstance(payload, ApplicationRejected):
        return S.REJECTED, {"active": False, "closed_reason": f"rejected:{payload.reason_code}"}
    if state is S.REJECTED:  # biometrics.duplicate_confirmed
        return S.REJECTED, {"active": False, "closed_reason": "duplicate_confirmed"}
    if isinstance(payload, CardReadyForCollection):
        return S.READY_FOR_COLLECTION, {
            "storage_place": payload.storage_place,
            "ready_at": event.occurred_at,
        }
    if isinstance(payload, CardActivated):
        return S.ACTIVATED, {"activated_at": event.occurred_at, "chip_serial": payload.chip_serial}
    if state is S.SPOILED:  # the card goes back to production; it is no longer at the desk
        return S.SPOILED, dict.fromkeys(
            ("storage_place", "ready_at", "activated_at", "chip_serial")
        )
    return state, {}
