"""Status timeline and SLA per application: a faust app over every stage's event topics.

- ``timelines``: a faust Table (in-memory store, changelog topic) application id -> timeline
  (:mod:`services.notification.sla`). It is derived state: it rebuilds from its changelog, and
  from scratch by replaying the event topics under a new app id.
- A timer checks deadlines (1 working day after acceptance, per the kecamatan's calendar) on
  the injectable clock and publishes ``sla.breached`` to the notification topic, keyed by
  application id. The agent reads that topic too and records the breach in the table, so a
  deadline is reported once; the event's message id is derived from (application, deadline),
  so even a repeat after a crash is dropped by the consumers' inboxes.
- ``counts(kecamatan)``: live open / on time / late per kecamatan for ``GET /sla``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

import faust

from schemas.base import Service
from schemas.envelope import InvalidEvent, parse_event
from schemas.topics import EVENT_PARTITIONS, Topics
from services.notification import rules, sla
from services.notification.clock import Clock
from services.notification.settings import NotificationSettings
from services.runtime import kafka

log = logging.getLogger("tuntas.notification.timeline")

SOURCES = (
    Service.INTAKE,
    Service.VALIDATION,
    Service.BIOMETRIC,
    Service.CARD_PRODUCTION,
    Service.NOTIFICATION,
)


class Timeline:
    def __init__(
        self,
        settings: NotificationSettings,
        topics: Topics,
        bootstrap: str,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.emitted = 0
        self.ready = asyncio.Event()
        self._pending: set[tuple[str, str]] = set()  # (app, deadline) sent, not yet read back
        self.app = faust.App(
            f"{topics.prefix}notification-timeline",
            broker=f"kafka://{bootstrap}",
            broker_credentials=kafka.faust_credentials(),  # the process's own principal
            store="memory://",
            web_enabled=False,
            autodiscover=False,
            topic_partitions=EVENT_PARTITIONS,
            topic_replication_factor=kafka.replication_factor(),  # its changelog, as every topic
            topic_allow_declare=True,
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
            stream_wait_empty=False,
        )
        self.source = self.app.topic(
            *(topics.events(s) for s in SOURCES),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.out = self.app.topic(
            topics.notification_events,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.table = self.app.Table(
            "timelines",
            default=None,
            partitions=EVENT_PARTITIONS,
            key_type=str,
        )
        self.app.agent(self.source, name="fold")(self._fold)
        self.app.timer(settings.sla_check_s, name="sla_check")(self.check)

    def _deadline(self, kecamatan: str, accepted_at: datetime) -> datetime:
        hours = self.settings.office(kecamatan).hours
        return rules.calendar(hours).deadline(accepted_at, self.settings.sla_working_days)

    async def _fold(self, stream: Any) -> Any:
        async for raw in stream:
            try:
                event = parse_event(raw)
            except InvalidEvent as e:
                log.warning("timeline skips an unreadable message: %s", e)
                continue
            key = str(event.application_id)
            current = self.table.get(key)
            self.table[key] = sla.apply(current, event, self._deadline)
            yield None

    def _timelines(self) -> list[tuple[str, sla.Timeline]]:
        return [
            (k.decode() if isinstance(k, bytes) else str(k), v)
            for k, v in list(self.table.items())
            if v
        ]

    async def check(self) -> int:
        """Publish ``sla.breached`` for every timeline past its deadline; return how many."""
        now = self.clock.now()
        sent = 0
        for app_id, tl in self._timelines():
            if not sla.is_breached(tl, now) or (app_id, tl["deadline"]) in self._pending:
                continue
            event = sla.breach_event(app_id, tl)
            await self.out.send(
                key=app_id.encode(),
                value=event.to_bytes(),
                headers={"type": event.type.encode(), "kecamatan": event.kecamatan.encode()},
            )
            self._pending.add((app_id, tl["deadline"]))
            sent += 1
        self.emitted += sent
        if sent:
            log.info("published %d sla.breached events", sent)
        return sent

    def counts(self, kecamatan: str | None = None) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "at": now.isoformat(),
            "kecamatan": sla.counts((tl for _, tl in self._timelines()), now, kecamatan),
        }

    def get(self, application_id: str) -> sla.Timeline | None:
        value = self.table.get(application_id)
        return dict(value) if value else None

    async def run(self, stop: asyncio.Event) -> None:
        await self.app.start()
        self.ready.set()
        try:
            await stop.wait()
        finally:
            with contextlib.suppress(Exception):
                await self.app.stop()
