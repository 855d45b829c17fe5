"""The service quality stage: complaints on the standard's four channels, the IKM survey after
each handover, and the monthly performance report computed from every stage's events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from schemas.base import Service
from schemas.envelope import parse_event
from schemas.topics import EVENT_PARTITIONS, Topics
from services.runtime import service
from services.runtime.service import Runtime, Subscription
from services.service_quality import imap, lapor, mailbox, reports, store, workflow
from services.service_quality.api import create_app
from services.service_quality.clock import Clock, SystemClock
from services.service_quality.handlers import make_handler
from services.service_quality.periodic import every
from services.service_quality.settings import ServiceQualitySettings

CONSUMED = (
    Service.INTAKE,
    Service.VALIDATION,
    Service.BIOMETRIC,
    Service.CARD_PRODUCTION,
    Service.NOTIFICATION,
)


async def serve(
    settings: ServiceQualitySettings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Runtime], Awaitable[None]] | None = None,
    clock: Clock | None = None,
) -> None:
    conns = settings.connections
    topics = Topics(conns.tuntas_topic_prefix)
    ctx = workflow.Context(settings, clock or SystemClock(), topics)
    consumed = [*(topics.events(s) for s in CONSUMED), topics.stock]

    async def escalation(runtime: Runtime) -> list[object]:
        async with runtime.pool.acquire() as conn, conn.transaction():
            return list(await workflow.escalate(conn, ctx))

    background = [
        every("complaint_escalation", lambda: settings.escalation_poll_s, escalation),
        every("mail_sender", lambda: settings.mail_poll_s, lambda rt: mailbox.deliver(rt, ctx)),
        every(
            "monthly_reports",
            lambda: settings.report_check_s,
            lambda rt: reports.produce_due(rt, ctx),
        ),
    ]
    if settings.lapor_url:
        background.append(
            every("lapor_sync", lambda: settings.lapor_poll_s, lambda rt: lapor.sync(rt, ctx))
        )
    if settings.imap_url:
        imap.parse_url(settings.imap_url)  # a malformed URL stops the start, not each poll
        background.append(
            every(
                "office_mailbox_imap", lambda: settings.imap_poll_s, lambda rt: imap.poll(rt, ctx)
            )
        )
    if settings.smtp_port >= 0:

        async def office_mailbox(runtime: Runtime) -> None:
            await mailbox.serve_smtp(runtime, ctx)

        background.append(office_mailbox)

    await service.run(
        service="service_quality",
        schema=settings.db_schema or "service_quality",
        dsn=conns.database_url,
        bootstrap=conns.kafka_bootstrap_servers,
        migrations=store.MIGRATIONS,
        topics=[(t, EVENT_PARTITIONS) for t in [*consumed, topics.service_quality_events]],
        subscriptions=[
            Subscription(consumed, make_handler(ctx), f"{conns.tuntas_topic_prefix}service_quality")
        ],
        parse=parse_event,
        batch_size=settings.batch_size,
        background=background,
        http=lambda rt: create_app(rt, ctx),
        http_host=settings.http_host,
        http_port=settings.http_port,
        stop=stop,
        on_ready=on_ready,
    )
