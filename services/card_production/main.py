"""Run one card-production station: ``serve(settings)``. Wiring only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from schemas.envelope import parse_event
from schemas.topics import EVENT_PARTITIONS, PRINT_READY_PARTITIONS, Topics
from services.card_production import store
from services.card_production.api import create_app
from services.card_production.biosource import HttpBiometricSource
from services.card_production.devices import build_devices
from services.card_production.handlers import make_handler
from services.card_production.settings import CardProductionSettings
from services.card_production.workflow import Station
from services.runtime.auth import oidc_settings
from services.runtime.oidc_client import OidcLogin, secret_from
from services.runtime.service import Runtime, Subscription, run


def _machine_login(settings: CardProductionSettings) -> OidcLogin:
    """The station's own machine client, bound to its kecamatan by the IdP."""
    client = settings.oidc_client_id or f"station-{settings.kecamatan.replace('.', '')}"
    secret = secret_from(settings.oidc_client_secret, settings.oidc_client_secret_file)
    oidc = oidc_settings()
    return OidcLogin.client_credentials(oidc.issuer, client, secret, oidc.discovery())


async def serve(
    settings: CardProductionSettings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Runtime], Awaitable[None]] | None = None,
) -> None:
    """Run the station until stopped."""
    kec = settings.kecamatan
    topics = Topics(settings.connections.tuntas_topic_prefix)
    devices = build_devices(
        settings.reader, settings.queue, settings.feeder, settings.feed_timeout_s
    )
    station = Station(
        settings, devices, HttpBiometricSource(settings.biometric_url, _machine_login(settings))
    )

    async def production(runtime: Runtime) -> None:
        await station.run(runtime)

    async def ready(runtime: Runtime) -> None:
        station.runtime = runtime
        runtime.extra["station"] = station
        if on_ready is not None:
            await on_ready(runtime)

    await run(
        service=f"card_production.{kec}",
        schema=settings.station_schema,
        dsn=settings.connections.database_url,
        bootstrap=settings.connections.kafka_bootstrap_servers,
        migrations=store.MIGRATIONS,
        topics=[
            (topics.print_ready(kec), PRINT_READY_PARTITIONS),
            (topics.card_production_events, EVENT_PARTITIONS),
            (topics.stock, EVENT_PARTITIONS),
        ],
        subscriptions=[
            Subscription(
                [topics.print_ready(kec)],
                make_handler(kec, station.channel),
                group_id=f"{topics.prefix}card_production.{kec}",  # one group per deployment
                name="print_ready",
            )
        ],
        parse=parse_event,
        batch_size=settings.batch_size,
        background=[production],
        http=lambda runtime: create_app(runtime, station),
        http_host=settings.http_host,
        http_port=settings.http_port,
        fail_closed_http=True,
        stop=stop,
        on_ready=ready,
    )
