"""Status and history per application, as this stage sees it (after MOSIP's registration-processor).

Every consumed event is an ``in`` transition (work arrived), every emitted event an ``out``
transition (work handed on). An application whose last transition is ``in`` and older than a
threshold is *stuck*: waiting on a person or on a failed step. Re-driving it publishes its
last outbound events again (downstream inboxes drop what they already have).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.runtime.db import Conn
from services.runtime.messages import Event


@dataclass(frozen=True)
class Transition:
    application_id: str
    kecamatan: str
    state: str
    direction: str  # "in" or "out"
    message_id: UUID
    causation_id: UUID | None = None
    note: str | None = None


def transitions(inbound: Event | None, emitted: Sequence[Event]) -> list[Transition]:
    """The transitions one handled message makes: the event received, then each one emitted."""
    out: list[Transition] = []
    if inbound is not None:
        out.append(
            Transition(
                str(inbound.correlation_id),
                inbound.kecamatan,
                inbound.type,
                "in",
                inbound.message_id,
            )
        )
    cause = inbound.message_id if inbound is not None else None
    out.extend(
        Transition(str(e.correlation_id), e.kecamatan, e.type, "out", e.message_id, cause)
        for e in emitted
    )
    return out


async def record(conn: Conn, items: Sequence[Transition]) -> None:
    """Append history and move each application's status row (call inside the transaction)."""
    if not items:
        return
    await conn.executemany(
        "INSERT INTO application_history"
        " (application_id, state, direction, message_id, causation_id, note)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (t.application_id, t.state, t.direction, t.message_id, t.causation_id, t.note)
            for t in items
        ],
    )
    # Last transition per application wins; history keeps the rest.
    latest = {t.application_id: t for t in items}
    await conn.executemany(
        "INSERT INTO application_status"
        " (application_id, kecamatan, state, direction, last_message_id, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, now())"
        " ON CONFLICT (application_id) DO UPDATE SET kecamatan = EXCLUDED.kecamatan,"
        " state = EXCLUDED.state, direction = EXCLUDED.direction,"
        " last_message_id = EXCLUDED.last_message_id, updated_at = now()",
        [
            (t.application_id, t.kecamatan, t.state, t.direction, t.message_id)
            for t in latest.values()
        ],
    )


@dataclass(frozen=True)
class StatusRow:
    application_id: str
    kecamatan: str
    state: str
    direction: str
    updated_at: datetime
    redrive_count: int


async def get(conn: Conn, application_id: str) -> StatusRow | None:
    row = await conn.fetchrow(
        "SELECT application_id, kecamatan, state, direction, updated_at, redrive_count"
        " FROM application_status WHERE application_id = $1",
        application_id,
    )
    return StatusRow(**dict(row)) if row else None


async def history(conn: Conn, application_id: str) -> list[dict[str, object]]:
    rows = await conn.fetch(
        "SELECT state, direction, message_id, causation_id, at, note FROM application_history"
        " WHERE application_id = $1 ORDER BY id",
        application_id,
    )
    return [dict(r) for r in rows]


async def stuck(
    conn: Conn, older_than_seconds: float, kecamatan: str | None = None
) -> list[StatusRow]:
    """Applications whose work arrived here and has not moved on for longer than the threshold."""
    rows = await conn.fetch(
        "SELECT application_id, kecamatan, state, direction, updated_at, redrive_count"
        " FROM application_status WHERE direction = 'in'"
        " AND updated_at < now() - make_interval(secs => $1)"
        " AND ($2::text IS NULL OR kecamatan = $2) ORDER BY updated_at",
        older_than_seconds,
        kecamatan,
    )
    return [StatusRow(**dict(r)) for r in rows]


async def redrive(conn: Conn, application_id: str) -> int:
    """Queue this application's outbound events for publishing again; return how many."""
    async with conn.transaction():
        result = await conn.execute(
            "UPDATE outbox SET sent_at = NULL WHERE key = $1 AND sent_at IS NOT NULL",
            application_id,
        )
        await conn.execute(
            "UPDATE application_status SET redrive_count = redrive_count + 1"
            " WHERE application_id = $1",
            application_id,
        )
    return int(result.split()[-1])
