"""Kafka: every stage's events are kept for the reports; a handover invites to the survey."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from schemas.envelope import Envelope
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.service_quality import workflow

Handler = Callable[[Envelope, Conn], Coroutine[Any, Any, Sequence[Emit]]]


def make_handler(ctx: workflow.Context) -> Handler:
    async def handle(event: Envelope, conn: Conn) -> Sequence[Emit]:
        return await workflow.record_event(conn, ctx, event)

    return handle
