"""Prometheus ``GET /metrics`` for a stage, read from what the runtime already counts.

At each scrape the figures are taken from the service's :class:`~services.runtime.health.Health`
(its consumers' stats, its relays), the outbox backlog is counted in PostgreSQL, and a stage may
add gauges of its own (the card station: blank stock, printer, reader) through ``gauges``.
Only the HTTP latency histogram keeps state here. Like ``/health``, the route needs no token:
it says how far behind the service is, never whose application.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from services.runtime.health import Health
from services.runtime.logs import Asgi, Message, Receive, Scope, Send

log = logging.getLogger("tuntas.metrics")


@dataclass(frozen=True)
class Gauge:
    """One stage-specific sample: ``tuntas_<name>{labels} value``."""

    name: str
    help: str
    labels: Mapping[str, str]
    value: float


Gauges = Callable[[], Awaitable[Iterable[Gauge]]]


def mount(app: FastAPI, health: Health, gauges: Gauges | None = None) -> None:
    """Serve ``GET /metrics`` on ``app`` and time its requests by route."""
    latency = Histogram(
        "tuntas_http_request_duration_seconds",
        "HTTP request latency by route template",
        ["service", "method", "route", "status"],
        registry=None,  # one per app: several stages may run in one process (tests)
    )
    app.add_middleware(_Timed, latency=latency, service=health.service)
    router = APIRouter(tags=["ops"])

    @router.get("/metrics", include_in_schema=False)
    async def scrape() -> Response:
        backlog = [await _backlog(relay) for relay in health.relays]
        extra = list(await gauges()) if gauges is not None else []
        families = [*_runtime(health, backlog), *_gauges(extra), *latency.collect()]
        return Response(generate_latest(_Families(families)), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)


@dataclass(frozen=True)
class _Families:
    families: list[Metric]

    def collect(self) -> Iterable[Metric]:
        return self.families


async def _backlog(relay: Any) -> int | None:
    try:
        return int(await relay.backlog())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        log.warning("outbox backlog not counted: %r", error)  # the other figures still serve
        return None


def _runtime(health: Health, backlogs: list[int | None]) -> Iterator[Metric]:
    service = health.service
    up = GaugeMetricFamily(
        "tuntas_up", "1 while every loop of the service runs", labels=["service"]
    )
    up.add_metric([service], 1.0 if health.ok else 0.0)
    yield up
    by_group = ["service", "group"]
    lag = GaugeMetricFamily(
        "tuntas_consumer_lag", "Records not yet consumed", labels=[*by_group, "topic", "partition"]
    )
    handled = CounterMetricFamily(
        "tuntas_messages_handled", "Messages applied", labels=[*by_group, "topic", "type"]
    )
    dead = CounterMetricFamily(
        "tuntas_messages_dead_lettered", "Messages sent to a DLQ", labels=[*by_group, "topic"]
    )
    duplicates = CounterMetricFamily(
        "tuntas_inbox_duplicates_skipped", "Redelivered messages the inbox dropped", labels=by_group
    )
    last = GaugeMetricFamily(
        "tuntas_consumer_last_batch_timestamp_seconds",
        "When a batch was last committed",
        labels=by_group,
    )
    for consumer in health.consumers:
        group, stats = [service, consumer.config.group_id], consumer.stats
        for where, behind in stats.lag.items():
            topic, partition = where.rsplit(":", 1)
            lag.add_metric([*group, topic, partition], behind)
        for (topic, kind), n in stats.handled_by_kind.items():
            handled.add_metric([*group, topic, kind], n)
        for topic, n in stats.dead_by_topic.items():
            dead.add_metric([*group, topic], n)
        duplicates.add_metric(group, stats.duplicates)
        if stats.last_batch_at:
            last.add_metric(group, stats.last_batch_at)
    yield from (lag, handled, dead, duplicates, last)
    published = CounterMetricFamily(
        "tuntas_outbox_published", "Outbox rows published", labels=["service"]
    )
    published.add_metric([service], sum(r.published for r in health.relays))
    yield published
    backlog = GaugeMetricFamily(
        "tuntas_outbox_backlog", "Outbox rows waiting to be published", labels=["service"]
    )
    counted = [n for n in backlogs if n is not None]  # none while PostgreSQL is away
    if counted:
        backlog.add_metric([service], max(counted))  # the relays of one schema share one table
    yield backlog


def _gauges(samples: list[Gauge]) -> Iterator[Metric]:
    families: dict[str, GaugeMetricFamily] = {}
    for sample in samples:
        name = f"tuntas_{sample.name}"
        family = families.setdefault(
            name, GaugeMetricFamily(name, sample.help, labels=list(sample.labels))
        )
        family.add_metric(list(sample.labels.values()), sample.value)
    yield from families.values()


class _Timed:
    """ASGI middleware observing each request's duration under its route template (an
    unmatched path counts as ``unmatched``, so scanners cannot blow up the label set)."""

    def __init__(self, app: Asgi, latency: Histogram, service: str) -> None:
        self.app = app
        self._latency = latency
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_timed)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self._latency.labels(self._service, scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
