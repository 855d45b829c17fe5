"""What the runtime needs of an event, and the outgoing record it writes to the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID


class Event(Protocol):
    """The envelope fields the plumbing relies on (``schemas.envelope.Envelope`` has them)."""

    @property
    def message_id(self) -> UUID: ...

    @property
    def type(self) -> str: ...

    @property
    def correlation_id(self) -> UUID: ...

    @property
    def kecamatan(self) -> str: ...

    def to_bytes(self) -> bytes: ...


@dataclass(frozen=True)
class Emit:
    """An event a handler wants published to ``topic``, keyed by its application id unless
    ``key`` says otherwise (stock events are keyed by kecamatan)."""

    topic: str
    event: Event
    headers: Mapping[str, str] = field(default_factory=dict)
    key: str | None = None

    @property
    def kafka_key(self) -> str:
        return self.key if self.key is not None else str(self.event.correlation_id)


class PoisonMessage(Exception):
    """Raised by a handler for a well-formed message it can never process (it goes to the DLQ).

    A business rejection is not this: it is a normal event the handler returns.
    """
