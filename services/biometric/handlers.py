"""Consumed events: ``application.validated`` (queue or skip), ``application.cancelled``, and
the ABIS's answers (``abis.responded``: the 1:N dedupe's outcome)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from schemas.envelope import Envelope
from schemas.events import AbisResponded, ApplicationValidated
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
        if isinstance(event.payload, AbisResponded):
            return await workflow.abis_responded(stage, event, event.payload, conn)
        if event.type == "application.cancelled":
            await workflow.cancelled(event, conn)
        return []  # everything else on these topics is not this stage's business

    return handle
