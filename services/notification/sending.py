"""The SMS sending loop: leased ``sms_outbox`` rows -> the SMSC over SMPP, then marked.

A row is leased before the submit and marked after it in one transaction that also writes
``notification.sent``/``notification.failed`` to the outbox. A crash between the SMSC accepting
and the mark re-sends after the lease expires (at-least-once at the SMSC, never for a row
already marked). Transient SMSC errors retry with exponential backoff up to
``send_max_attempts``; permanent ones fail at once. Receipts are recorded as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from schemas.topics import Topics
from services.notification import store, workflow
from services.notification.settings import NotificationSettings
from services.notification.sms import PermanentSmsError, SmppClient, TransientSmsError
from services.runtime.service import Runtime


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
        async with runtime.pool.acquire() as conn, conn.transaction():
            sms = await workflow.prepare_sms(conn, s, topics, row)
        if sms is not None:
            try:
                sent = await self.client.send(sms.phone, sms.text)
            except PermanentSmsError as e:
                async with runtime.pool.acquire() as conn, conn.transaction():
                    await workflow.sms_failed(conn, topics, row, str(e))
            except TransientSmsError as e:
                async with runtime.pool.acquire() as conn, conn.transaction():
                    await workflow.sms_not_accepted(conn, s, topics, row, str(e))
            else:
                async with runtime.pool.acquire() as conn, conn.transaction():
                    await workflow.sms_sent(conn, topics, row, sms, sent.message_ids)
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
