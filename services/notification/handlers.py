"""Kafka: every stage's events -> contacts, pending SMS and the uncollected-card schedule."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationValidated,
    CardReadyForCollection,
    CardStoredUncollected,
    ComplaintAnswered,
)
from services.notification import rules, workflow
from services.notification.settings import NotificationSettings
from services.runtime.db import Conn
from services.runtime.messages import Emit

Handler = Callable[[Envelope, Conn], Coroutine[Any, Any, Sequence[Emit]]]


def make_handler(settings: NotificationSettings) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        p = event.payload
        if isinstance(p, ApplicationAccepted | ApplicationValidated):
            await workflow.contact_seen(conn, event, p.applicant, p.tracking_number)
        elif isinstance(p, ComplaintAnswered):
            await workflow.complaint_contact(conn, event, p)
        await workflow.event_sms(conn, settings, event)
        if isinstance(p, CardReadyForCollection):
            await workflow.card_ready(conn, settings, event, p.storage_place)
        elif isinstance(p, CardStoredUncollected):
            await workflow.card_stored(conn, event, p.storage_place)
        if event.type in rules.STOPPING_EVENTS:
            await workflow.no_more_reminders(conn, event)
        return []

    return handle
