"""Running the validation stage: consume intake's and biometric's events, serve the queue."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from schemas.envelope import parse_event
from schemas.topics import EVENT_PARTITIONS, Topics
from services.runtime.service import Hook, Runtime, Subscription, run
from services.validation.api import create_app
from services.validation.handlers import make_handler
from services.validation.settings import SERVICE, ValidationSettings
from services.validation.store import MIGRATIONS


async def serve(
    settings: ValidationSettings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Hook | None = None,
) -> None:
    topics = Topics(settings.connections.tuntas_topic_prefix)

    def http(runtime: Runtime) -> FastAPI:
        return create_app(runtime, settings)

    await run(
        service=SERVICE,
        schema=settings.schema_name,
        dsn=settings.connections.database_url,
        bootstrap=settings.connections.kafka_bootstrap_servers,
        migrations=MIGRATIONS,
        topics=[
            (topics.intake_events, EVENT_PARTITIONS),
            (topics.biometric_events, EVENT_PARTITIONS),
            (topics.validation_events, EVENT_PARTITIONS),
        ],
        subscriptions=[
            Subscription(
                topics=[topics.intake_events, topics.biometric_events],
                handler=make_handler(settings, topics),
                group_id=settings.consumer_group,
                name="events",
            )
        ],
        parse=parse_event,
        batch_size=settings.batch_size,
        http=http,
        http_host=settings.http_host,
        http_port=settings.http_port,
        fail_closed_http=True,
        stop=stop,
        on_ready=on_ready,
    )
