"""The uncollected-card scheduler: fires due reminders (an SMS or a call task) on a clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from services.notification import rules, store
from services.notification.settings import NotificationSettings, ReminderChannel
from services.notification.sms.templates import Template
from services.runtime.db import Conn
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.notification.scheduler")


class Scheduler:
    def __init__(self, settings: NotificationSettings, clock: rules.Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.fired = 0
        self.wakeup = asyncio.Event()

    async def run(self, runtime: Runtime) -> None:
        while not runtime.stop.is_set():
            await self.tick(runtime)
            self.wakeup.clear()
            waiters = [
                asyncio.ensure_future(runtime.stop.wait()),
                asyncio.ensure_future(self.wakeup.wait()),
            ]
            try:
                await asyncio.wait(
                    waiters,
                    timeout=self.settings.scheduler_poll_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                for w in waiters:
                    w.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.gather(*waiters, return_exceptions=True)

    async def tick(self, runtime: Runtime) -> int:
        """Fire every reminder due at the clock's now; return how many fired."""
        now = self.clock.now()
        fired = 0
        while True:
            async with runtime.pool.acquire() as conn, conn.transaction():
                due = await store.due_reminders(conn, now)
                for row in due:
                    await self._fire(conn, row, now)
            fired += len(due)
            if len(due) < 100:
                break
        self.fired += fired
        return fired

    async def _fire(self, conn: Conn, row: dict[str, object], now: datetime) -> None:
        app = str(row["application_id"])
        kecamatan = str(row["kecamatan"])
        ready_at = row["ready_at"]
        assert isinstance(ready_at, datetime)
        step = int(str(row["step"]))
        fired = int(str(row["fired"]))
        hours = self.settings.office(kecamatan).hours
        channel = ReminderChannel(str(row["next_channel"]))
        due = row["next_due"]
        assert isinstance(due, datetime)
        if channel is ReminderChannel.SMS:
            local = ready_at.astimezone(hours.zone)
            await store.enqueue_sms(
                conn,
                source_key=f"reminder:{app}:{fired + 1}",
                template=Template.UNCOLLECTED_REMINDER.value,
                application_id=app,
                kecamatan=kecamatan,
                fields={"ready_since": f"{local:%d-%m-%Y}"},
                causation_id=None,
            )
            await store.log_contact(conn, app, now, "sms", "reminder_due", None)
        elif await store.open_call(conn, app, kecamatan, due):
            await store.log_contact(conn, app, now, "phone_call", "call_due", None)
        if not row["override"]:
            step += 1
        nxt = rules.next_regular(self.settings.reminders, hours, ready_at, step, now)
        await store.reschedule(conn, app, nxt, fired=True)
        log.info("reminder %s fired for an application (%s)", fired + 1, channel.value)
