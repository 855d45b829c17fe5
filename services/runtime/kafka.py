"""Kafka clients configured the one way the delivery guarantees need."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import topic_config
from services.runtime.settings import Connections

log = logging.getLogger("tuntas.kafka")

SCRAM = "SCRAM-SHA-512"


def security(connections: Connections | None = None) -> dict[str, Any]:
    """Every aiokafka client's security options: SCRAM-SHA-512 over SASL_PLAINTEXT as the
    process's own principal when it has one (``KAFKA_SASL_USERNAME``), else PLAINTEXT."""
    conns = connections or Connections()
    if not conns.kafka_sasl_username:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": SCRAM,
        "sasl_plain_username": conns.kafka_sasl_username,
        "sasl_plain_password": conns.kafka_password(),
    }


def faust_credentials(connections: Connections | None = None) -> Any:
    """The same principal for a faust app (``broker_credentials``); None: PLAINTEXT."""
    conns = connections or Connections()
    if not conns.kafka_sasl_username:
        return None
    import faust  # only the notification stage runs faust: not every process pays its import

    return faust.SASLCredentials(
        username=conns.kafka_sasl_username, password=conns.kafka_password(), mechanism=SCRAM
    )


def producer(
    bootstrap: str, *, linger_ms: int = 5, connections: Connections | None = None
) -> AIOKafkaProducer:
    """Idempotent, ``acks=all``: a retried send never duplicates nor reorders within a partition."""
    return AIOKafkaProducer(
        **security(connections),
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        compression_type=None,
    )


def replication_factor() -> int:
    """1 on the local single-node broker; a production cluster sets 3."""
    return int(os.environ.get("TUNTAS_REPLICATION_FACTOR", "1"))


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[tuple[str, int]],
    connections: Connections | None = None,
    *,
    replication: int | None = None,
) -> None:
    """Create each (name, partitions) topic unless it exists, with the catalog's configs
    (retention, cleanup policy), and bring an existing topic's configs back to the catalog's
    when they differ. Safe to call from every instance. ``replication``: a tool creating the
    topics for a cluster it started says it (default: this process's setting)."""
    wanted = dict(topics)
    admin = AIOKafkaAdminClient(**security(connections), bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                num_partitions=parts,
                replication_factor=replication or replication_factor(),
                topic_configs=topic_config(name),
            )
            for name, parts in wanted.items()
            if name not in existing
        ]
        await _align_configs(admin, [name for name in wanted if name in existing])
        if not missing:
            return
        try:
            response = await admin.create_topics(missing)
        except TopicAlreadyExistsError:
            return
        for name, code, *_ in getattr(response, "topic_errors", []):
            if code not in (0, 36):  # 36: created meanwhile by another instance
                log.warning("creating topic %s failed with error code %s", name, code)
        # A consumer subscribing before the new partitions have leaders may see none of them
        # until its next metadata refresh (minutes): return only once they are led.
        await _wait_for_leaders(admin, [t.name for t in missing])
    finally:
        await admin.close()


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The current value of each catalog-managed config of these topics."""
    if not names:
        return {}
    keys = list(topic_config(names[0]))
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name, dict.fromkeys(keys)) for name in names]
    )
    current: dict[str, dict[str, str]] = {}
    for response in responses:
        for _code, _message, _type, name, entries, *_ in response.resources:
            current[name] = {entry[0]: entry[1] for entry in entries}
    return current


async def _align_configs(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """An existing topic created by hand, by an older version or with broker defaults gets the
    catalog's retention and cleanup policy. AlterConfigs (not incremental) resets the topic's
    other dynamic configs: the catalog owns every config of these topics."""
    current = await topic_configs(admin, names)
    drifted = [name for name in names if current.get(name) != topic_config(name)]
    if not drifted:
        return
    for name in drifted:
        log.warning(
            "topic %s configs %s differ from the catalog's %s: altering",
            name,
            current.get(name),
            topic_config(name),
        )
    await admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n, topic_config(n)) for n in drifted]
    )


async def _wait_for_leaders(
    admin: AIOKafkaAdminClient, names: list[str], timeout: float = 30.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        described = await admin.describe_topics(names)
        if len(described) == len(names) and all(
            t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"topics without partition leaders after {timeout:.0f}s: {names}")
        await asyncio.sleep(0.1)
