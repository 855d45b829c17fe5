"""Kafka: the events the validation stage consumes, parsed and handed to :mod:`workflow`.

From intake: ``application.accepted``, ``application.cancelled``, ``card.collected``; from
biometric: ``biometrics.duplicate_confirmed``. Anything else on those topics is not this
stage's business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationCancelled,
    BiometricsDuplicateConfirmed,
    CardCollected,
)
from schemas.topics import Topics
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.validation import workflow
from services.validation.settings import ValidationSettings

Handler = Callable[[Envelope, Conn], Awaitable[Sequence[Emit]]]


def make_handler(settings: ValidationSettings, topics: Topics) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        payload = event.payload
        if isinstance(payload, ApplicationAccepted):
            return await workflow.on_accepted(event, payload, conn, settings, topics)
        if isinstance(payload, ApplicationCancelled):
            await workflow.on_cancelled(event, conn)
        elif isinstance(payload, CardCollected):
            await workflow.on_collected(event, conn)
        elif isinstance(payload, BiometricsDuplicateConfirmed):
            await workflow.on_duplicate_confirmed(event, payload, conn)
        return []

    return handle
