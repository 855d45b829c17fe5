"""Running the ABIS: ``serve(settings)``. The index is rebuilt from the sealed gallery before
the first request is read, then follows the gallery's changes (``follow.py``)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from schemas.envelope import parse_event
from schemas.topics import EVENT_PARTITIONS, Topics
from services.abis import follow, store
from services.abis.api import create_app
from services.abis.handlers import make_handler
from services.abis.index import GalleryIndex
from services.abis.sealing import load_key
from services.abis.settings import SERVICE, AbisSettings
from services.abis.workflow import Abis, batch_worker
from services.runtime import db
from services.runtime.auth import oidc_settings
from services.runtime.oidc_client import OidcLogin, secret_from
from services.runtime.service import Hook, Runtime, Subscription, run

log = logging.getLogger("tuntas.abis")


async def serve(
    settings: AbisSettings, *, stop: asyncio.Event | None = None, on_ready: Hook | None = None
) -> None:
    schema = settings.schema_name
    dsn = settings.connections.database_url
    topics = Topics(settings.connections.tuntas_topic_prefix)
    secret = secret_from(settings.oidc_client_secret, settings.oidc_client_secret_file)
    oidc = oidc_settings()
    login = OidcLogin.client_credentials(
        oidc.issuer, settings.oidc_client_id, secret, oidc.discovery()
    )
    async with httpx.AsyncClient(timeout=settings.fetch_timeout_s, auth=login) as client:
        abis = Abis(
            topics=topics,
            key=load_key(settings),
            index=GalleryIndex(ef_search=settings.ef_search),
            http=client,
            reference_prefixes=settings.prefixes(),
        )
        started = time.monotonic()
        conn = await db.connect(dsn, schema)
        try:
            await db.migrate(conn, schema, store.MIGRATIONS)
            count = await abis.follower.catch_up(
                conn,
                lambda n: log.info("index rebuild: %d changes", n) if n % 100_000 == 0 else None,
            )
        finally:
            await conn.close()
        log.info(
            "index rebuilt: %d references (%d changes) in %.1f s",
            len(abis.index),
            count,
            time.monotonic() - started,
        )

        def http(runtime: Runtime) -> Any:
            runtime.extra["abis"] = abis
            return create_app(runtime, abis)

        await run(
            service=SERVICE,
            schema=schema,
            dsn=dsn,
            bootstrap=settings.connections.kafka_bootstrap_servers,
            migrations=store.MIGRATIONS,
            topics=[
                (topics.abis_requests, EVENT_PARTITIONS),
                (topics.abis_responses, EVENT_PARTITIONS),
            ],
            subscriptions=[
                Subscription(
                    topics=[topics.abis_requests],
                    handler=make_handler(abis),
                    group_id=f"{topics.prefix}{SERVICE}",
                )
            ],
            parse=parse_event,
            batch_size=settings.batch_size,
            background=[
                batch_worker(abis),
                follow.every(abis.follower, settings.follow_interval_s),
            ],
            http=http,
            http_host=settings.http_host,
            http_port=settings.http_port,
            stop=stop,
            on_ready=on_ready,
        )
