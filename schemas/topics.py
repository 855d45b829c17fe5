"""The topic catalog: the one place every service takes topic names from.

One event topic per producing stage, keyed by application id so one application's events
stay in order. Two exceptions:
- ``record.print_ready`` goes to ``tuntas.print-ready.<kecamatan>`` so a kecamatan's hardware
  station subscribes to (and, with Kafka ACLs, can read) only its own print work;
- ``stock.*`` events go to ``tuntas.card-production.stock``, keyed by kecamatan code. Their
  envelope's correlation id is the application whose card moved the stock, or a fresh id for
  deliveries and counts;
- ``abis.requested`` goes to ``tuntas.abis.requests``, keyed by reference id (an insert and
  the identify after it stay in order), so an ABIS (Tuntas's or a vendor's) reads its requests
  only; its answers go to ``tuntas.abis.responses``.
Every topic ``T`` has a dead-letter topic ``T.dlq`` (same key, longer retention) for messages
its consumers could not read.

``Topics(prefix="t123.")`` gives the same catalog under a prefix (tests use unique ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from schemas.base import Service
from schemas.events import EVENT_TYPES
from schemas.values import RegionLevel, parse_region_code

DAY_MS = 24 * 60 * 60 * 1000
_TOPIC_CHARS = re.compile(r"^[A-Za-z0-9._-]*$")
_KAFKA_MAX_TOPIC_LENGTH = 249


class Key(StrEnum):
    APPLICATION_ID = "application_id"  # the envelope's correlation id
    KECAMATAN = "kecamatan"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: Key
    partitions: int
    retention_ms: int  # -1: keep forever
    cleanup_policy: str  # "delete" or "compact"
    producers: tuple[Service, ...]
    consumers: tuple[Service, ...]
    event_types: tuple[str, ...]  # what may appear on it (empty for a DLQ: anything)

    def config(self) -> dict[str, str]:
        """Topic-level configs for the admin client."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}


# Main event topics. 12 partitions leaves room for a province-sized deployment.
EVENT_PARTITIONS = 12
PRINT_READY_PARTITIONS = 3  # tens to hundreds of cards a day per kecamatan
EVENT_RETENTION_MS = 30 * DAY_MS  # topics are transport; each stage's truth is in PostgreSQL
DLQ_RETENTION_MS = 90 * DAY_MS  # time for an operator to look and re-drive

S = Service
_STAGE_TOPICS: dict[Service, tuple[str, tuple[Service, ...]]] = {
    S.INTAKE: (
        "tuntas.intake.events",
        # Not CARD_PRODUCTION: a station reads only its kecamatan's print work (Kafka ACLs).
        (S.VALIDATION, S.BIOMETRIC, S.NOTIFICATION, S.SERVICE_QUALITY),
    ),
    S.VALIDATION: (
        "tuntas.validation.events",
        (S.INTAKE, S.BIOMETRIC, S.NOTIFICATION, S.SERVICE_QUALITY),
    ),
    S.BIOMETRIC: (
        "tuntas.biometric.events",
        (S.INTAKE, S.VALIDATION, S.NOTIFICATION, S.SERVICE_QUALITY),
    ),
    S.CARD_PRODUCTION: (
        "tuntas.card-production.events",
        (S.INTAKE, S.NOTIFICATION, S.SERVICE_QUALITY),
    ),
    S.NOTIFICATION: ("tuntas.notification.events", (S.INTAKE, S.SERVICE_QUALITY)),
    S.SERVICE_QUALITY: ("tuntas.service-quality.events", (S.NOTIFICATION,)),
    S.ABIS: ("tuntas.abis.responses", (S.BIOMETRIC,)),
}
_PRINT_READY = "tuntas.print-ready."
_STOCK = "tuntas.card-production.stock"
PRINT_READY_EVENTS = frozenset({"record.print_ready"})
STOCK_EVENTS = frozenset({"stock.level", "stock.low"})
_ABIS_REQUESTS = "tuntas.abis.requests"
ABIS_REQUEST_EVENTS = frozenset({"abis.requested"})


def topic_config(name: str) -> dict[str, str]:
    """The catalog's topic-level configs for a topic of this deployment, by its name: a
    dead-letter topic keeps its messages longer than a main topic (see :meth:`Topics.specs`)."""
    retention = DLQ_RETENTION_MS if name.endswith(".dlq") else EVENT_RETENTION_MS
    return {"retention.ms": str(retention), "cleanup.policy": "delete"}


def _events_of(producer: Service) -> tuple[str, ...]:
    return tuple(
        name
        for name, model in EVENT_TYPES.items()
        if model.producer is producer
        and name not in PRINT_READY_EVENTS | STOCK_EVENTS | ABIS_REQUEST_EVENTS
    )


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    def __post_init__(self) -> None:
        if not _TOPIC_CHARS.fullmatch(self.prefix) or len(self.prefix) > 100:
            raise ValueError(
                "topic prefix may contain only letters, digits, '.', '_', '-' "
                "and be at most 100 characters"
            )

    # ------------------------------------------------------------ names

    def events(self, producer: Service) -> str:
        """The event topic of one stage."""
        return self.prefix + _STAGE_TOPICS[producer][0]

    @property
    def intake_events(self) -> str:
        return self.events(S.INTAKE)

    @property
    def validation_events(self) -> str:
        return self.events(S.VALIDATION)

    @property
    def biometric_events(self) -> str:
        return self.events(S.BIOMETRIC)

    @property
    def card_production_events(self) -> str:
        return self.events(S.CARD_PRODUCTION)

    @property
    def notification_events(self) -> str:
        return self.events(S.NOTIFICATION)

    @property
    def service_quality_events(self) -> str:
        return self.events(S.SERVICE_QUALITY)

    @property
    def stock(self) -> str:
        return self.prefix + _STOCK

    @property
    def abis_requests(self) -> str:
        return self.prefix + _ABIS_REQUESTS

    @property
    def abis_responses(self) -> str:
        return self.events(S.ABIS)

    def print_ready(self, kecamatan: str) -> str:
        """``tuntas.print-ready.350805``: one kecamatan's print work (dotted codes accepted)."""
        return self.prefix + _PRINT_READY + parse_region_code(kecamatan, RegionLevel.KECAMATAN)

    @staticmethod
    def dlq(topic: str) -> str:
        return f"{topic}.dlq"

    def for_event(self, event_type: str, kecamatan: str) -> str:
        """Where an event of this type is published (what an outbox relay needs)."""
        if event_type in PRINT_READY_EVENTS:
            return self.print_ready(kecamatan)
        if event_type in STOCK_EVENTS:
            return self.stock
        if event_type in ABIS_REQUEST_EVENTS:
            return self.abis_requests
        model = EVENT_TYPES.get(event_type)
        if model is None:
            raise KeyError(f"unknown event type {event_type!r}")
        return self.events(model.producer)

    def key_for(self, event_type: str, application_id: str, kecamatan: str) -> bytes:
        """The Kafka message key for an event of this type."""
        if event_type in STOCK_EVENTS:
            return parse_region_code(kecamatan, RegionLevel.KECAMATAN).encode()
        return application_id.encode()

    # ------------------------------------------------------------ specs

    def specs(self, kecamatan_codes: tuple[str, ...] | list[str]) -> list[TopicSpec]:
        """Every topic of a deployment serving these kecamatan, DLQs included."""
        main = [
            TopicSpec(
                self.events(producer),
                Key.APPLICATION_ID,
                EVENT_PARTITIONS,
                EVENT_RETENTION_MS,
                "delete",
                (producer,),
                consumers,
                _events_of(producer),
            )
            for producer, (_, consumers) in _STAGE_TOPICS.items()
        ]
        main.append(
            TopicSpec(
                self.stock,
                Key.KECAMATAN,
                EVENT_PARTITIONS,
                EVENT_RETENTION_MS,
                "delete",
                (S.CARD_PRODUCTION,),
                (S.NOTIFICATION, S.SERVICE_QUALITY),
                tuple(sorted(STOCK_EVENTS)),
            )
        )
        main.append(
            TopicSpec(
                self.abis_requests,
                Key.APPLICATION_ID,  # the envelope's correlation id: the reference id
                EVENT_PARTITIONS,
                EVENT_RETENTION_MS,
                "delete",
                (S.BIOMETRIC,),
                (S.ABIS,),
                tuple(sorted(ABIS_REQUEST_EVENTS)),
            )
        )
        main += [
            TopicSpec(
                self.print_ready(code),
                Key.APPLICATION_ID,
                PRINT_READY_PARTITIONS,
                EVENT_RETENTION_MS,
                "delete",
                (S.BIOMETRIC,),
                (S.CARD_PRODUCTION,),
                tuple(sorted(PRINT_READY_EVENTS)),
            )
            for code in kecamatan_codes
        ]
        dlqs = [
            TopicSpec(
                self.dlq(spec.name),
                spec.key,
                spec.partitions,
                DLQ_RETENTION_MS,
                "delete",
                spec.consumers,
                (),
                (),
            )
            for spec in main
        ]
        for spec in main + dlqs:
            if len(spec.name) > _KAFKA_MAX_TOPIC_LENGTH:
                raise ValueError(f"topic name too long for Kafka: {spec.name[:60]}...")
        return main + dlqs
