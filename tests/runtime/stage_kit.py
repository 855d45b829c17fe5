"""A minimal stage for runtime tests: a test event type, a handler with real state, helpers."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from services.runtime.db import Conn
from services.runtime.messages import Emit, PoisonMessage

MIGRATION = """
CREATE TABLE IF NOT EXISTS seen (application_id text PRIMARY KEY, n int NOT NULL);
"""


class Ping(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: UUID = Field(default_factory=uuid4)
    type: str = "ping"
    correlation_id: UUID = Field(default_factory=uuid4)
    name: str = ""
    kecamatan: str = "350805"
    n: int

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def parse(raw: bytes) -> Ping:
    return Ping.model_validate_json(raw)


def make_handler(out_topic: str):  # type: ignore[no-untyped-def]
    async def handle(event: Ping, conn: Conn) -> Sequence[Emit]:
        if event.n < 0:
            raise PoisonMessage(f"n must be >= 0, got {event.n}")
        await conn.execute("INSERT INTO seen VALUES ($1, $2)", str(event.correlation_id), event.n)
        pong = Ping(correlation_id=event.correlation_id, name=event.name, n=event.n, type="pong")
        return [Emit(out_topic, pong)]

    return handle
