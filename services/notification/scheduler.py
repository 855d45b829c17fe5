"""The uncollected-card scheduler: on a timer (or when woken), fire every reminder now due."""

from __future__ import annotations

import asyncio
import contextlib

from services.notification import workflow
from services.notification.clock import Clock
from services.notification.settings import NotificationSettings
from services.runtime.service import Runtime


class Scheduler:
    def __init__(self, settings: NotificationSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
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
                n = await workflow.fire_due(conn, self.settings, now)
            fired += n
            if n < workflow.DUE_BATCH:
                return fired
