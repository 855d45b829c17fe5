"""Reads every event of the run from its topics, as an auditor would: the demo's progress bars
and the report's figures come from here, not from the autopilot's own bookkeeping."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from aiokafka import ConsumerRecord

from schemas.envelope import Envelope, InvalidEvent, parse_event
from schemas.topics import Topics
from tuntas.tail import TopicTail

log = logging.getLogger("tuntas.demo.watch")


def run_topics(topics: Topics, kecamatan: Sequence[str]) -> list[str]:
    return [
        topics.intake_events,
        topics.validation_events,
        topics.biometric_events,
        topics.card_production_events,
        topics.notification_events,
        topics.stock,
        *(topics.print_ready(k) for k in kecamatan),
    ]


@dataclass
class Seen:
    """Everything read so far: per application its events in order of arrival."""

    events: list[Envelope] = field(default_factory=list)
    by_application: dict[UUID, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    unreadable: int = 0

    def add(self, event: Envelope) -> None:
        self.events.append(event)
        self.by_application[event.correlation_id].append(event)

    def count(self, event_type: str, kecamatan: str | None = None) -> int:
        return sum(
            1
            for e in self.events
            if e.type == event_type and (kecamatan is None or e.kecamatan == kecamatan)
        )

    def applications_with(self, event_type: str, kecamatan: str | None = None) -> set[UUID]:
        return {
            e.correlation_id
            for e in self.events
            if e.type == event_type and (kecamatan is None or e.kecamatan == kecamatan)
        }

    def types(self) -> Counter[str]:
        return Counter(e.type for e in self.events)


class Watcher(TopicTail):
    """Tails the run's topics from the beginning into :class:`Seen` until stopped."""

    def __init__(self, bootstrap: str, topics: Sequence[str]) -> None:
        super().__init__(bootstrap, topics)
        self.seen = Seen()
        self._ids: set[UUID] = set()

    def on_record(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = parse_event(record.value or b"")
        except InvalidEvent:
            self.seen.unreadable += 1
            return
        # a relay re-send after a crash repeats a message id: count it once
        if event.message_id in self._ids:
            return
        self._ids.add(event.message_id)
        self.seen.add(event)

    async def caught_up(self, timeout: float = 30.0) -> None:
        """Until everything on the topics now has been read."""
        ends = await self._consumer.end_offsets(self._parts)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            behind = [tp for tp, end in ends.items() if await self._consumer.position(tp) < end]
            if not behind:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"the watcher did not catch up with {len(behind)} partitions")
            await asyncio.sleep(0.1)
