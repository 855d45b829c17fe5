"""Consumed events -> contacts, pending SMS and the uncollected-card schedule (one transaction)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationValidated,
    CardReadyForCollection,
    CardStoredUncollected,
)
from services.notification import rules, store
from services.notification.settings import NotificationSettings
from services.runtime.db import Conn
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.notification")

Handler = Callable[[Envelope, Conn], Coroutine[Any, Any, Sequence[Emit]]]


def make_handler(settings: NotificationSettings, clock: rules.Clock) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        app = str(event.application_id)
        office = settings.office(event.kecamatan)
        p = event.payload
        if isinstance(p, ApplicationAccepted | ApplicationValidated):
            await store.upsert_contact(
                conn,
                app,
                event.kecamatan,
                name=p.applicant.name,
                phone=p.applicant.phone,
                tracking_number=p.tracking_number,
            )
        template = rules.EVENT_TEMPLATES.get(event.type)
        if template is not None:
            await store.enqueue_sms(
                conn,
                source_key=str(event.message_id),
                template=template.value,
                application_id=app,
                kecamatan=event.kecamatan,
                fields=rules.event_fields(event, office.hours),
                causation_id=event.message_id,
            )
        if isinstance(p, CardReadyForCollection) and not await store.was_collected(conn, app):
            ready_at = event.occurred_at
            nxt = rules.next_regular(settings.reminders, office.hours, ready_at, 0, ready_at)
            await store.start_reminders(conn, app, event.kecamatan, ready_at, p.storage_place, nxt)
            await store.log_contact(conn, app, ready_at, "desk", "card_ready", p.storage_place)
            contact = await store.contact(conn, app)
            if contact is not None and contact["opted_out"]:
                await store.stop_reminders(conn, app, "stopped", "opted out")
        elif isinstance(p, CardStoredUncollected):
            await store.set_storage(conn, app, p.storage_place)
        if event.type in rules.STOPPING_EVENTS:
            state = "collected" if event.type == "card.collected" else "stopped"
            await store.log_contact(conn, app, event.occurred_at, "desk", state, event.type)
            await store.stop_reminders(conn, app, state, event.type)
        return []

    return handle
