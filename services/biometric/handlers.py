"""Consumed events: ``application.validated`` (queue or skip) and ``application.cancelled``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from schemas.envelope import Envelope
from schemas.events import ApplicationValidated
from services.biometric import workflow
from services.biometric.workflow import Stage
from services.runtime.db import Conn
from services.runtime.messages import Emit

Handler = Callable[[Envelope, Conn], Awaitable[Sequence[Emit]]]


def make_handler(stage: Stage) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        if event.type == "application.validated":
            assert isinstance(event.payload, ApplicationValidated)  # parse_event typed it
            return await workflow.validated(stage, event, event.payload, conn)
        if event.type == "application.cancelled":
            await workflow.cancelled(event, conn)
        return []  # everything else on these topics is not this stage's business

    return handle
