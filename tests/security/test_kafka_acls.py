"""Kafka principals and ACLs (issue #17): each service and each card station authenticates
with its own SCRAM-SHA-512 principal, and the broker refuses what the generated ACL table
(from the topic catalog) does not allow."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from schemas.base import Service
from schemas.topics import Topics
from services.runtime import kafka
from services.runtime.settings import Connections
from tests.waiting import wait_for
from tuntas.stack import local, principals
from tuntas.stack.principals import Acl, Op, Pattern, Resource, acl_table

TEMPEH, KUNIR = "350805", "350806"
TOPIC_AUTHORIZATION_FAILED = 29


def test_a_station_may_read_only_its_own_kecamatans_print_topic() -> None:
    topics = Topics("p.")
    table = acl_table("p.", [TEMPEH, KUNIR])
    kunir = principals.kafka_principal(Service.CARD_PRODUCTION, KUNIR)
    reads = {a.name for a in table if a.principal == kunir and a.operation is Op.READ}
    assert reads == {topics.print_ready(KUNIR), f"p.card_production.{KUNIR}"}
    assert topics.print_ready(TEMPEH) not in {a.name for a in table if a.principal == kunir}


def test_every_catalog_edge_has_its_acl() -> None:
    """Producers write, consumers read, every topic of the catalog: the table cannot drift."""
    table = set(acl_table("", [TEMPEH]))
    for spec in Topics().specs([TEMPEH]):
        if spec.name.startswith("tuntas.print-ready."):
            continue  # per station (above) and one prefixed ACL for biometric (below)
        for service in spec.producers:
            for who in _principals(service):
                assert Acl(who, Resource.TOPIC, spec.name, Pattern.LITERAL, Op.WRITE) in table
        for service in spec.consumers:
            for who in _principals(service):
                assert Acl(who, Resource.TOPIC, spec.name, Pattern.LITERAL, Op.READ) in table
    biometric = principals.kafka_principal(Service.BIOMETRIC)
    prefixed = Acl(biometric, Resource.TOPIC, "tuntas.print-ready.", Pattern.PREFIXED, Op.WRITE)
    assert prefixed in table


def _principals(service: Service) -> list[str]:
    if service is Service.CARD_PRODUCTION:
        return [principals.kafka_principal(service, TEMPEH)]
    return [principals.kafka_principal(service)]


def _as(endpoints: local.Endpoints, service: Service, kecamatan: str | None = None) -> Connections:
    env = principals.process_env(endpoints, service, kecamatan)
    return Connections(
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        kafka_sasl_username=env["KAFKA_SASL_USERNAME"],
        kafka_sasl_password_file=env["KAFKA_SASL_PASSWORD_FILE"],
    )


@pytest.fixture
async def deployment(secure_stack: local.Endpoints) -> Topics:
    prefix = f"s{uuid.uuid4().hex[:8]}."
    await principals.prepare(secure_stack, prefix, [TEMPEH, KUNIR])
    topics = Topics(prefix)
    specs = topics.specs([TEMPEH, KUNIR])
    await kafka.ensure_topics(secure_stack.kafka_bootstrap, [(s.name, 1) for s in specs])
    return topics


def _consumer(conns: Connections, group: str, **extra: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **kafka.security(conns),
        bootstrap_servers=conns.kafka_bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **extra,
    )


async def test_station_reads_its_print_topic_and_is_refused_anothers(
    secure_stack: local.Endpoints, deployment: Topics
) -> None:
    topics = deployment
    biometric = _as(secure_stack, Service.BIOMETRIC)
    producer = kafka.producer(biometric.kafka_bootstrap_servers, connections=biometric)
    await producer.start()
    try:
        for code in (TEMPEH, KUNIR):
            await producer.send_and_wait(topics.print_ready(code), code.encode(), key=b"a")
    finally:
        await producer.stop()

    kunir = _as(secure_stack, Service.CARD_PRODUCTION, KUNIR)
    own = _consumer(kunir, f"{topics.prefix}card_production.{KUNIR}")
    await own.start()
    try:
        own.subscribe([topics.print_ready(KUNIR)])
        seen: list[bytes] = []

        async def read() -> bool:
            batch = await own.getmany(timeout_ms=500)
            seen.extend(r.value for records in batch.values() for r in records)
            return bool(seen)

        await wait_for(read, what="Kunir's station to read its own print work", timeout=60)
        assert seen == [KUNIR.encode()]
    finally:
        await own.stop()

    # Tempeh's print work: the broker tells Kunir's station nothing about it (an aiokafka
    # subscription to it would just find no partitions) ...
    admin = AIOKafkaAdminClient(
        **kafka.security(kunir), bootstrap_servers=kunir.kafka_bootstrap_servers
    )
    await admin.start()
    try:
        described = await admin.describe_topics(
            [topics.print_ready(KUNIR), topics.print_ready(TEMPEH)]
        )
    finally:
        await admin.close()
    codes = {t["topic"]: t["error_code"] for t in described}
    assert codes == {
        topics.print_ready(KUNIR): 0,
        topics.print_ready(TEMPEH): TOPIC_AUTHORIZATION_FAILED,
    }

    # And another station's consumer group is refused too.
    stranger = _consumer(kunir, f"{topics.prefix}card_production.{TEMPEH}")
    await stranger.start()
    try:
        stranger.subscribe([topics.print_ready(KUNIR)])
        with pytest.raises(GroupAuthorizationFailedError):
            for _ in range(40):
                await stranger.getmany(timeout_ms=250)
    finally:
        await stranger.stop()


async def test_a_service_is_refused_a_topic_it_has_no_acl_for(
    secure_stack: local.Endpoints, deployment: Topics
) -> None:
    notification = _as(secure_stack, Service.NOTIFICATION)
    producer = kafka.producer(notification.kafka_bootstrap_servers, connections=notification)
    await producer.start()
    try:
        # Its own topic is allowed ...
        await producer.send_and_wait(deployment.notification_events, b"ok", key=b"a")
        # ... the intake's is not: only intake produces there.
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(deployment.intake_events, b"forged", key=b"a")
    finally:
        await producer.stop()


async def test_a_wrong_password_is_refused(secure_stack: local.Endpoints) -> None:
    from aiokafka.errors import KafkaError

    conns = Connections(
        kafka_bootstrap_servers=secure_stack.kafka_sasl_bootstrap or "",
        kafka_sasl_username=principals.kafka_principal(Service.INTAKE),
        kafka_sasl_password="not-the-password",
    )
    await principals.prepare(secure_stack, "x.", [TEMPEH])
    producer = kafka.producer(conns.kafka_bootstrap_servers, connections=conns)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()
