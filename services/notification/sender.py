"""The SMS sender loop: pending ``sms_outbox`` rows -> SMSC, marked sent/failed with events.

A row is leased before the submit and marked after it in one transaction that also writes
``notification.sent``/``notification.failed`` to the outbox. A crash between the SMSC accepting
and the mark re-sends after the lease expires (at-least-once at the SMSC, never for a row
already marked). Transient SMSC errors retry with exponential backoff up to
``send_max_attempts``; permanent ones fail at once. Receipts are recorded as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from schemas.envelope import Envelope
from schemas.events import Channel, NotificationFailed, NotificationSent
from schemas.topics import Topics
from services.notification.settings import NotificationSettings
from services.notification.sms import PermanentSmsError, SmppClient, TransientSmsError
from services.notification.sms.templates import Template, fields, render
from services.runtime import outbox, status
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.notification.sender")

_CLAIM = """
UPDATE sms_outbox SET lease_until = now() + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM sms_outbox
    WHERE status = 'pending' AND next_attempt_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING id, source_key, template, application_id, kecamatan, causation_id, fields, attempts
"""


class Sender:
    def __init__(self, settings: NotificationSettings, client: SmppClient, topics: Topics) -> None:
        self.settings = settings
        self.client = client
        self.topics = topics
        self.sent = 0

    async def run(self, runtime: Runtime) -> None:
        while not runtime.stop.is_set():
            done = await self.send_due(runtime)
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(runtime.stop.wait(), self.settings.sender_poll_s)

    async def send_due(self, runtime: Runtime, batch: int = 50) -> int:
        async with runtime.pool.acquire() as conn:
            rows = await conn.fetch(_CLAIM, batch, self.settings.send_lease_s)
        for row in sorted(rows, key=lambda r: r["id"]):
            await self._send_one(runtime, dict(row))
        return len(rows)

    def _text(self, row: dict[str, Any], contact: dict[str, Any]) -> str:
        template = Template(row["template"])
        office = self.settings.office(row["kecamatan"])
        data = {
            "name": contact["name"] or "Bapak/Ibu",
            "tracking_number": contact["tracking_number"] or "-",
            "office": office.name,
            "office_hours": office.display_hours(),
            "survey_url": office.survey_url,
            **row["fields"],
        }
        need = fields(template)
        return render(template, self.settings.language, {k: data[k] for k in need if k in data})

    async def _send_one(self, runtime: Runtime, row: dict[str, Any]) -> None:
        async with runtime.pool.acquire() as conn:
            contact = await conn.fetchrow(
                "SELECT * FROM contacts WHERE application_id = $1", row["application_id"]
            )
        if contact is None:
            # The accepted event may still be on its way (topics are not ordered together).
            await self._retry_or_fail(runtime, row, "no contact for this application yet")
            return
        if contact["opted_out"]:
            await self._finish(runtime, row, "skipped", "opted out")
            return
        if not contact["phone"]:
            await self._finish(runtime, row, "skipped", "no phone number")
            return
        try:
            text = self._text(row, dict(contact))
        except (ValueError, KeyError) as e:
            await self._fail(runtime, row, f"template: {e}")
            return
        try:
            sent = await self.client.send(contact["phone"], text)
        except PermanentSmsError as e:
            await self._fail(runtime, row, str(e))
            return
        except TransientSmsError as e:
            await self._retry_or_fail(runtime, row, str(e))
            return
        async with runtime.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE sms_outbox SET status = 'sent', sent_at = now(), phone = $2, text = $3,"
                " smsc_message_ids = $4, attempts = attempts + 1, lease_until = NULL"
                " WHERE id = $1",
                row["id"],
                contact["phone"],
                text,
                list(sent.message_ids),
            )
            await conn.executemany(
                "INSERT INTO sms_receipts (smsc_message_id, sms_id) VALUES ($1, $2)"
                " ON CONFLICT (smsc_message_id) DO UPDATE SET sms_id = EXCLUDED.sms_id",
                [(mid, row["id"]) for mid in sent.message_ids],
            )
            await _log(conn, row, "sent", ",".join(sent.message_ids))
            payload = NotificationSent(
                channel=Channel.SMS,
                purpose=row["template"],
                provider_reference=",".join(sent.message_ids)[:128],
            )
            await self._emit(conn, row, payload)
        self.sent += 1
        runtime.relay.wake()

    async def _retry_or_fail(self, runtime: Runtime, row: dict[str, Any], error: str) -> None:
        attempts = row["attempts"] + 1
        if attempts >= self.settings.send_max_attempts:
            await self._fail(runtime, row, error)
            return
        s = self.settings
        delay = min(s.send_retry_max_s, s.send_retry_base_s * 2 ** (attempts - 1))
        log.warning("SMS %s: %s; retry %d in %.0fs", row["id"], error, attempts, delay)
        async with runtime.pool.acquire() as conn:
            await conn.execute(
                "UPDATE sms_outbox SET attempts = $2, last_error = $3, lease_until = NULL,"
                " next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1",
                row["id"],
                attempts,
                error[:500],
                delay,
            )

    async def _fail(self, runtime: Runtime, row: dict[str, Any], error: str) -> None:
        log.warning("SMS %s failed: %s", row["id"], error)
        async with runtime.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE sms_outbox SET status = 'failed', attempts = attempts + 1,"
                " last_error = $2, lease_until = NULL WHERE id = $1",
                row["id"],
                error[:500],
            )
            await _log(conn, row, "failed", error[:200])
            payload = NotificationFailed(
                channel=Channel.SMS, purpose=row["template"], reason=_short(error)
            )
            await self._emit(conn, row, payload)
        runtime.relay.wake()

    async def _finish(self, runtime: Runtime, row: dict[str, Any], state: str, why: str) -> None:
        async with runtime.pool.acquire() as conn:
            await conn.execute(
                "UPDATE sms_outbox SET status = $2, last_error = $3, lease_until = NULL"
                " WHERE id = $1",
                row["id"],
                state,
                why,
            )

    async def _emit(
        self, conn: Conn, row: dict[str, Any], payload: NotificationSent | NotificationFailed
    ) -> None:
        event = Envelope.new(
            payload,
            application_id=UUID(row["application_id"]),
            kecamatan=row["kecamatan"],
            causation_id=row["causation_id"],
        )
        await outbox.enqueue(conn, [Emit(self.topics.notification_events, event)])
        await status.record(conn, status.transitions(None, [event]))

    async def record_receipts(self, runtime: Runtime) -> None:
        """Background job: store delivery receipts as the SMSC sends them."""
        while not runtime.stop.is_set():
            try:
                receipt = await asyncio.wait_for(self.client.receipts.get(), 0.5)
            except TimeoutError:
                continue
            async with runtime.pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO sms_receipts (smsc_message_id, stat, err, done_date,"
                    " received_at) VALUES ($1, $2, $3, $4, now())"
                    " ON CONFLICT (smsc_message_id) DO UPDATE SET stat = EXCLUDED.stat,"
                    " err = EXCLUDED.err, done_date = EXCLUDED.done_date,"
                    " received_at = EXCLUDED.received_at",
                    receipt.message_id,
                    receipt.stat,
                    receipt.err,
                    receipt.done_date,
                )


async def _log(conn: Conn, row: dict[str, Any], what: str, detail: str) -> None:
    await conn.execute(
        "INSERT INTO contact_log (application_id, at, channel, what, detail)"
        " VALUES ($1, $2, 'sms', $3, $4)",
        row["application_id"],
        datetime.now(UTC),
        f"{row['template']}:{what}",
        detail,
    )


def _short(text: str) -> str:
    return " ".join(text.split())[:190] or "unknown error"
