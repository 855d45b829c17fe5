"""Consumed requests: ``abis.requested`` from ``tuntas.abis.requests``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from schemas.envelope import Envelope
from schemas.events import AbisRequested
from services.abis import workflow
from services.abis.workflow import Abis
from services.runtime.db import Conn
from services.runtime.messages import Emit

Handler = Callable[[Envelope, Conn], Awaitable[Sequence[Emit]]]


def make_handler(abis: Abis) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        if isinstance(event.payload, AbisRequested):
            return await workflow.handle(abis, event, event.payload, conn)
        return []

    return handle
