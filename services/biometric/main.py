"""Running the biometric stage: ``serve(settings)``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from typing import Any

from schemas.envelope import parse_event
from schemas.topics import EVENT_PARTITIONS, PRINT_READY_PARTITIONS, Topics
from services.biometric import store
from services.biometric.api import create_app, references
from services.biometric.devices import CaptureDevices, HttpCaptureDevices
from services.biometric.handlers import make_handler
from services.biometric.keys import check_keyring, load_keyring
from services.biometric.settings import SERVICE, BiometricSettings
from services.biometric.workflow import Stage, auto_operator
from services.runtime import db
from services.runtime.auth import Access
from services.runtime.service import Hook, Runtime, Subscription, run
from services.runtime.workers import process_pool

log = logging.getLogger("tuntas.biometric")


async def serve(
    settings: BiometricSettings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Hook | None = None,
    devices: CaptureDevices | None = None,
) -> None:
    """Run the stage until ``stop`` (or SIGTERM). ``devices``: the stations' capture devices
    (default: the device protocol's HTTP client at ``settings.device_url``)."""
    schema = settings.schema_name
    dsn = settings.connections.database_url
    bootstrap = settings.connections.kafka_bootstrap_servers
    topics = Topics(settings.connections.tuntas_topic_prefix)
    keyring = load_keyring(settings)

    conn = await db.connect(dsn, schema)
    try:
        await db.migrate(conn, schema, store.MIGRATIONS)
        await check_keyring(conn, keyring)  # a wrong key file fails here, not at first capture
    finally:
        await conn.close()

    async with (
        contextlib.aclosing(HttpCaptureDevices(settings.device_url)) as client,
        _image_pool(settings.image_workers) as pool,
    ):
        stage = Stage(
            topics=topics,
            keyring=keyring,
            policy=settings.quality_policy(),
            chip_fingers=settings.chip_finger_list(),
            devices=devices or client,
            abis_target_fpir=settings.abis_target_fpir,
            abis_max_results=settings.abis_max_results,
            public_url=settings.public_url,
            abis_clients=settings.abis_client_names(),
            pool=pool,
            auto_operator_id=settings.auto_operator_id,
        )

        def http(runtime: Runtime) -> Any:
            runtime.extra["stage"] = stage
            app = create_app(runtime, stage)
            app.include_router(references.router(runtime, stage, Access.from_env()))
            return app

        background = []
        if settings.auto_capture:
            background.append(auto_operator(stage, settings.auto_capture_concurrency))

        await run(
            service=SERVICE,
            schema=schema,
            dsn=dsn,
            bootstrap=bootstrap,
            migrations=store.MIGRATIONS,
            topics=[
                (topics.validation_events, EVENT_PARTITIONS),
                (topics.abis_requests, EVENT_PARTITIONS),
                (topics.abis_responses, EVENT_PARTITIONS),
                (topics.intake_events, EVENT_PARTITIONS),
                (topics.biometric_events, EVENT_PARTITIONS),
                *(
                    (topics.print_ready(k), PRINT_READY_PARTITIONS)
                    for k in settings.kecamatan_list()
                ),
            ],
            subscriptions=[
                Subscription(
                    topics=[topics.validation_events, topics.intake_events, topics.abis_responses],
                    handler=make_handler(stage),
                    group_id=f"{topics.prefix}{SERVICE}",
                )
            ],
            parse=parse_event,
            batch_size=settings.batch_size,
            background=background,
            http=http,
            http_host=settings.http_host,
            http_port=settings.http_port,
            fail_closed_http=True,
            stop=stop,
            on_ready=on_ready,
        )


@contextlib.asynccontextmanager
async def _image_pool(workers: int) -> AsyncIterator[Executor | None]:
    """The image work's processes, ended with this one however it ends."""
    if workers == 0:
        yield None
        return
    pool = process_pool(workers)
    try:
        yield pool
    finally:
        await asyncio.to_thread(pool.shutdown, cancel_futures=True)
