"""The SMS sending loop: leased ``sms_outbox`` rows -> the SMSC over SMPP, then marked.

A row is leased, the start of its submit is noted (committed), and after the SMSC's answer
the row is marked in one transaction that also writes ``notification.sent``/
``notification.failed`` to the outbox; that mark rides through a database outage. A row found
with its submit noted but never marked (its sender was killed between the SMSC's answer and
the mark) is not sent again: the SMSC may have it, so it fails as "outcome unknown" and staff
see it among the failed SMS (each SMS at most once at the SMSC; docs/reliability.md, defect
35). A ``submit_sm`` that got no answer is still retried (at-least-once there). Transient SMSC
errors retry with exponential backoff up to ``send_max_attempts``; permanent ones fail at
once. Receipts are recorded as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from schemas.topics import Topics
from services.notification import store, workflow
from services.notification.settings import NotificationSettings
from services.notification.sms import PermanentSmsError, SmppClient, TransientSmsError
from services.runtime.db import Conn
from services.runtime.errors import RIDE_THROUGH_RETRIES, retrying
from services.runtime.service import Runtime

UNKNOWN = (
    "outcome unknown: a submit began at {began:%Y-%m-%d %H:%M:%S} UTC and its sender stopped"
    " before the SMSC's answer was recorded; not sent again (each SMS at most once):"
    " confirm with the applicant"
)


async def _settle(runtime: Runtime, mark: Callable[[Conn], Awaitable[None]]) -> None:
    """Record an SMS's outcome, riding through a database outage: restarting the sender
    instead would leave the row's submit unmarked, and the SMS would not be sent again."""

    async def once() -> None:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await mark(conn)

    await retrying(
        "sms:mark", once, max_retries=RIDE_THROUGH_RETRIES, backoff_base=0.2, backoff_max=5.0
    )


class Sender:
    def __init__(self, settings: NotificationSettings, client: SmppClient, topics: Topics) -> None:
        self.settings = settings
        self.client = client
        self.topics = topics

    async def run(self, runtime: Runtime) -> None:
        while not runtime.stop.is_set():
            done = await self.send_due(runtime)
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(runtime.stop.wait(), self.settings.sender_poll_s)

    async def send_due(self, runtime: Runtime, batch: int = 50) -> int:
        async with runtime.pool.acquire() as conn:
            rows = await store.claim_sms(conn, batch, self.settings.send_lease_s)
        for row in rows:
            await self._send_one(runtime, row)
        return len(rows)

    async def _send_one(self, runtime: Runtime, row: dict[str, Any]) -> None:
        s, topics = self.settings, self.topics
        began: datetime | None = row["submitting_since"]
        if began is not None:
            why = UNKNOWN.format(began=began.astimezone(UTC))
            await _settle(runtime, lambda conn: workflow.sms_failed(conn, topics, row, why))
            runtime.relay.wake()
            return
        async with runtime.pool.acquire() as conn, conn.transaction():
            sms = await workflow.prepare_sms(conn, s, topics, row)
        if sms is not None:

            async def noted() -> None:  # committed before the SMSC can have it, not earlier
                async with runtime.pool.acquire() as conn:
                    await store.begin_submit(conn, row["id"])

            try:
                sent = await self.client.send(sms.phone, sms.text, before_submit=noted)
            except PermanentSmsError as e:
                refused = str(e)
                await _settle(runtime, lambda conn: workflow.sms_failed(conn, topics, row, refused))
            except TransientSmsError as e:
                later = str(e)
                await _settle(
                    runtime, lambda conn: workflow.sms_not_accepted(conn, s, topics, row, later)
                )
            else:
                await _settle(
                    runtime,
                    lambda conn: workflow.sms_sent(conn, topics, row, sms, sent.message_ids),
                )
        runtime.relay.wake()

    async def record_receipts(self, runtime: Runtime) -> None:
        """Background job: store delivery receipts as the SMSC sends them."""
        while not runtime.stop.is_set():
            try:
                receipt = await asyncio.wait_for(self.client.receipts.get(), 0.5)
            except TimeoutError:
                continue
            async with runtime.pool.acquire() as conn:
                await store.record_receipt(
                    conn, receipt.message_id, receipt.stat, receipt.err, receipt.done_date
                )
