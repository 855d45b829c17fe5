"""Live queues: the pipeline's event topics, read by the console's own consumer group, become
"queue Q of kecamatan K changed" nudges pushed to that office's browsers (server-sent events).
A browser then fetches the queue fragment again with its user's token: nothing read from Kafka
but a queue name reaches the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer

from schemas.topics import Topics
from services.console.settings import ConsoleSettings
from services.runtime import kafka

log = logging.getLogger("tuntas.console")
HEARTBEAT_S = 15.0  # a comment line keeps proxies from closing an idle stream
RETRY_S = 5.0
TOPICS_RECHECK_S = 10.0  # how soon a topic created after the console starts is followed
EVERY_OFFICE = "*"  # the district admin's stream when no kecamatan is chosen: every office's


def queues_by_topic(topics: Topics) -> Mapping[str, tuple[str, ...]]:
    """Which queues an event on each topic may change (a screen's fragment names its queue)."""
    queues = {
        topics.intake_events: ("validation", "corrections", "handover"),
        topics.validation_events: ("validation", "corrections", "recording"),
        topics.biometric_events: ("handover", "recording", "adjudication"),
        topics.card_production_events: ("handover", "print", "calls"),
        topics.notification_events: ("calls", "sms"),
    }
    # Any event may change the dashboard's figures.
    return {topic: (*names, "dashboard") for topic, names in queues.items()}


class Nudges:
    """Each office's open streams; ``publish`` reaches every browser of that office."""

    def __init__(self) -> None:
        self._streams: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self.following = False  # the consumer has its partitions: nudges flow from now on

    def publish(self, kecamatan: str, queue: str) -> None:
        for stream in {*self._streams.get(kecamatan, ()), *self._streams.get(EVERY_OFFICE, ())}:
            if stream.qsize() < 100:  # a stalled browser misses nudges, never blocks others
                stream.put_nowait(queue)

    @contextlib.asynccontextmanager
    async def listen(self, kecamatan: str) -> AsyncIterator[asyncio.Queue[str]]:
        stream: asyncio.Queue[str] = asyncio.Queue()
        self._streams[kecamatan].add(stream)
        try:
            yield stream
        finally:
            self._streams[kecamatan].discard(stream)


def office_of_event(raw: bytes | None) -> str | None:
    """The kecamatan in an event's envelope header; nothing else of it is read."""
    try:
        header = json.loads(raw or b"")
    except ValueError:
        return None
    kecamatan = header.get("kecamatan") if isinstance(header, dict) else None
    return kecamatan if isinstance(kecamatan, str) else None


async def follow(settings: ConsoleSettings, nudges: Nudges, stop: asyncio.Event) -> None:
    """Turn new events into nudges until ``stop``; a broker away is retried, never fatal.
    Only the topics that exist are followed (the console creates none; a stage not started
    yet must not stop the others' nudges); new ones are picked up as they appear."""
    connections = settings.connections
    topics = Topics(connections.tuntas_topic_prefix)
    routes = queues_by_topic(topics)
    while not stop.is_set():
        consumer = AIOKafkaConsumer(
            bootstrap_servers=connections.kafka_bootstrap_servers,
            group_id=f"{connections.tuntas_topic_prefix}console",
            auto_offset_reset="latest",  # only what happens from now on matters to a nudge
            enable_auto_commit=False,
            **kafka.security(connections),
        )
        try:
            await consumer.start()
            followed: set[str] = set()
            looked = -TOPICS_RECHECK_S
            while not stop.is_set():
                if time.monotonic() - looked >= TOPICS_RECHECK_S:
                    looked = time.monotonic()
                    present = set(routes) & await consumer.topics()
                    if present != followed:
                        consumer.subscribe(sorted(present))
                        followed = present
                if not followed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
                    continue
                batch = await consumer.getmany(timeout_ms=500)
                nudges.following = bool(consumer.assignment())
                for part, records in batch.items():
                    for record in records:
                        office = office_of_event(record.value)
                        for queue in routes.get(part.topic, ()) if office else ():
                            nudges.publish(office or "", queue)
        except Exception as error:
            log.warning("live queue updates paused: %r", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_S)
        finally:
            nudges.following = False
            await consumer.stop()
