"""The notification service: consume every stage's events, send SMS, remind, keep the SLA."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from schemas.base import Service
from schemas.envelope import parse_event
from schemas.topics import EVENT_PARTITIONS, Topics
from services.notification import store
from services.notification.api import create_app
from services.notification.clock import Clock, SystemClock
from services.notification.handlers import make_handler
from services.notification.scheduler import Scheduler
from services.notification.sending import Sender
from services.notification.settings import NotificationSettings
from services.notification.sms import SmppClient
from services.runtime import service
from services.runtime.service import Runtime, Subscription

CONSUMED = (
    Service.INTAKE,
    Service.VALIDATION,
    Service.BIOMETRIC,
    Service.CARD_PRODUCTION,
    Service.SERVICE_QUALITY,  # survey.invited: the IKM link after a handover
)


async def serve(
    settings: NotificationSettings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Runtime], Awaitable[None]] | None = None,
    clock: Clock | None = None,
) -> None:
    clock = clock or SystemClock()
    conns = settings.connections
    topics = Topics(conns.tuntas_topic_prefix)
    consumed = [topics.events(s) for s in CONSUMED]
    client = SmppClient(settings.smpp())
    sender = Sender(settings, client, topics)
    scheduler = Scheduler(settings, clock)
    timeline: Any = None
    background: list[Callable[[Runtime], Awaitable[None]]] = []

    async def sms_sender(runtime: Runtime) -> None:
        await sender.run(runtime)

    async def sms_receipts(runtime: Runtime) -> None:
        await sender.record_receipts(runtime)

    async def reminder_scheduler(runtime: Runtime) -> None:
        await scheduler.run(runtime)

    background += [sms_sender, sms_receipts, reminder_scheduler]

    if settings.timeline_enabled:
        from services.notification.timeline import Timeline

        timeline = Timeline(settings, topics, conns.kafka_bootstrap_servers, clock)

        async def status_timeline(runtime: Runtime) -> None:
            await timeline.run(runtime.stop)

        background.append(status_timeline)

    async def ready(runtime: Runtime) -> None:
        runtime.extra.update(scheduler=scheduler, timeline=timeline)
        if on_ready is not None:
            await on_ready(runtime)

    try:
        await service.run(
            service="notification",
            schema=settings.db_schema or "notification",
            dsn=conns.database_url,
            bootstrap=conns.kafka_bootstrap_servers,
            migrations=store.MIGRATIONS,
            topics=[(t, EVENT_PARTITIONS) for t in [*consumed, topics.notification_events]],
            subscriptions=[
                Subscription(
                    consumed,
                    make_handler(settings),
                    f"{conns.tuntas_topic_prefix}notification",
                )
            ],
            parse=parse_event,
            batch_size=settings.batch_size,
            background=background,
            http=lambda rt: create_app(
                rt,
                settings,
                clock,
                sla_counts=timeline.counts if timeline is not None else None,
                wake_scheduler=scheduler.wakeup.set,
            ),
            http_host=settings.http_host,
            http_port=settings.http_port,
            fail_closed_http=True,
            stop=stop,
            on_ready=ready,
        )
    finally:
        await client.close()
