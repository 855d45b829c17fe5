"""The consume handler: a print-ready record becomes a queued job (no hardware here)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from schemas.envelope import Envelope
from schemas.events import RecordPrintReady
from services.card_production import store
from services.runtime.db import Conn
from services.runtime.messages import Emit, PoisonMessage

log = logging.getLogger("tuntas.card_production")

Handle = Callable[[Envelope, Conn], Awaitable[list[Emit]]]


def make_handler(kecamatan: str, channel: str) -> Handle:
    """The handler of one station: records the job and wakes the production loop (NOTIFY is
    delivered at commit, so the loop never looks before the row is there)."""

    async def handle(event: Envelope, conn: Conn) -> list[Emit]:
        if not isinstance(event.payload, RecordPrintReady):
            raise PoisonMessage(f"{event.type} does not belong on a print-ready topic")
        if event.kecamatan != kecamatan:
            raise PoisonMessage(
                f"print work of kecamatan {event.kecamatan} reached station {kecamatan}"
            )
        if await store.insert_job(
            conn, kecamatan, event.correlation_id, event.payload, event.message_id
        ):
            await store.notify(conn, channel)
        else:
            log.info("print-ready for %s again: the job exists already", event.correlation_id)
        return []

    return handle
