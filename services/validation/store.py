"""All SQL of the validation stage (unqualified table names; search_path is the schema)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from schemas.events import ApplicationAccepted
from schemas.residents import RegistryPerson
from services.runtime.db import Conn
from services.validation.rules import Finding

MIGRATIONS = Path(__file__).parent / "migrations"
PENDING = "pending"


@dataclass(frozen=True)
class WorkItem:
    id: int
    application_id: UUID
    revision: int
    kecamatan: str
    tracking_number: str
    application_type: str
    accepted_message_id: UUID
    accepted: ApplicationAccepted
    findings: list[Finding]
    status: str
    received_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    automatic: bool

    @classmethod
    def from_row(cls, row: Any) -> WorkItem:
        data = dict(row)
        data["accepted"] = ApplicationAccepted.model_validate(data["accepted"])
        data["findings"] = [Finding.model_validate(f) for f in data["findings"]]
        return cls(**data)


_ITEM_COLUMNS = (
    "id, application_id, revision, kecamatan, tracking_number, application_type,"
    " accepted_message_id, accepted, findings, status, received_at, decided_at, decided_by,"
    " automatic"
)


# ---------------------------------------------------------------- population registry

_UPSERT_PERSONS = """
INSERT INTO registry_persons (nik, kk_number, kecamatan, record)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
ON CONFLICT (nik) DO UPDATE SET kk_number = EXCLUDED.kk_number,
    kecamatan = EXCLUDED.kecamatan, record = EXCLUDED.record, imported_at = now()
"""


async def import_persons(
    conn: Conn, persons: Sequence[RegistryPerson], *, chunk: int = 5000
) -> int:
    """Insert or replace these residents in one transaction (a newer extract wins)."""
    async with conn.transaction():
        for start in range(0, len(persons), chunk):
            part = persons[start : start + chunk]
            await conn.execute(
                _UPSERT_PERSONS,
                [p.nik for p in part],
                [p.kk_number for p in part],
                [p.address.kecamatan_code for p in part],
                [p.model_dump(mode="json") for p in part],
            )
    return len(persons)


async def find_resident(conn: Conn, nik: str) -> RegistryPerson | None:
    record = await conn.fetchval("SELECT record FROM registry_persons WHERE nik = $1", nik)
    return RegistryPerson.model_validate(record) if record is not None else None


# ---------------------------------------------------------------- applications


@dataclass(frozen=True)
class ApplicationRow:
    state: str
    latest_revision: int


async def application(
    conn: Conn, application_id: UUID, *, lock: bool = False
) -> ApplicationRow | None:
    row = await conn.fetchrow(
        "SELECT state, latest_revision FROM applications WHERE application_id = $1"
        + (" FOR UPDATE" if lock else ""),
        application_id,
    )
    return ApplicationRow(**dict(row)) if row else None


async def record_accepted(
    conn: Conn,
    application_id: UUID,
    *,
    kecamatan: str,
    nik: str,
    tracking_number: str,
    revision: int,
) -> None:
    await conn.execute(
        "INSERT INTO applications (application_id, kecamatan, nik, tracking_number,"
        " latest_revision, state, active) VALUES ($1, $2, $3, $4, $5, 'accepted', true)"
        " ON CONFLICT (application_id) DO UPDATE SET nik = EXCLUDED.nik,"
        " tracking_number = EXCLUDED.tracking_number, latest_revision = EXCLUDED.latest_revision,"
        " state = 'accepted', active = true, updated_at = now()",
        application_id,
        kecamatan,
        nik,
        tracking_number,
        revision,
    )


async def set_application_state(
    conn: Conn, application_id: UUID, state: str, *, active: bool
) -> None:
    await conn.execute(
        "UPDATE applications SET state = $2, active = $3, updated_at = now()"
        " WHERE application_id = $1",
        application_id,
        state,
        active,
    )


async def other_active(conn: Conn, nik: str, application_id: UUID) -> list[str]:
    """Tracking numbers of the other active applications for this NIK."""
    rows = await conn.fetch(
        "SELECT tracking_number FROM applications"
        " WHERE nik = $1 AND active AND application_id <> $2 ORDER BY tracking_number",
        nik,
        application_id,
    )
    return [r["tracking_number"] for r in rows]


# ---------------------------------------------------------------- work items


async def insert_item(
    conn: Conn,
    *,
    application_id: UUID,
    kecamatan: str,
    accepted_message_id: UUID,
    accepted: ApplicationAccepted,
) -> int | None:
    """A new work item for this revision; ``None`` if the revision already has one."""
    item_id: int | None = await conn.fetchval(
        "INSERT INTO work_items (application_id, revision, kecamatan, tracking_number,"
        " application_type, accepted_message_id, accepted)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (application_id, revision) DO NOTHING RETURNING id",
        application_id,
        accepted.revision,
        kecamatan,
        accepted.tracking_number,
        accepted.application_type.value,
        accepted_message_id,
        accepted.model_dump(mode="json"),
    )
    return item_id


async def set_findings(conn: Conn, item_id: int, findings: Sequence[Finding]) -> None:
    await conn.execute(
        "UPDATE work_items SET findings = $2 WHERE id = $1",
        item_id,
        [f.model_dump(mode="json") for f in findings],
    )


async def close_pending(
    conn: Conn, application_id: UUID, status: str, *, below_revision: int | None = None
) -> int:
    """Close the application's pending items (all, or those below a revision)."""
    result = await conn.execute(
        "UPDATE work_items SET status = $2, decided_at = now()"
        " WHERE application_id = $1 AND status = 'pending'"
        " AND ($3::int IS NULL OR revision < $3)",
        application_id,
        status,
        below_revision,
    )
    return int(result.split()[-1])


async def item(conn: Conn, item_id: int) -> WorkItem:
    row = await conn.fetchrow(f"SELECT {_ITEM_COLUMNS} FROM work_items WHERE id = $1", item_id)
    return WorkItem.from_row(row)


async def latest_item(conn: Conn, application_id: UUID, *, lock: bool = False) -> WorkItem | None:
    """The item of the application's latest revision (locked for a decision if ``lock``)."""
    row = await conn.fetchrow(
        f"SELECT {_ITEM_COLUMNS} FROM work_items WHERE application_id = $1"
        f" ORDER BY revision DESC LIMIT 1{' FOR UPDATE' if lock else ''}",
        application_id,
    )
    return WorkItem.from_row(row) if row else None


async def items_of(conn: Conn, application_id: UUID) -> list[WorkItem]:
    rows = await conn.fetch(
        f"SELECT {_ITEM_COLUMNS} FROM work_items WHERE application_id = $1 ORDER BY revision",
        application_id,
    )
    return [WorkItem.from_row(r) for r in rows]


async def queue(
    conn: Conn, kecamatan: str, *, status: str | None = PENDING, limit: int = 200
) -> list[WorkItem]:
    rows = await conn.fetch(
        f"SELECT {_ITEM_COLUMNS} FROM work_items"
        " WHERE kecamatan = $1 AND ($2::text IS NULL OR status = $2)"
        " ORDER BY received_at, id LIMIT $3",
        kecamatan,
        status,
        limit,
    )
    return [WorkItem.from_row(r) for r in rows]


async def mark_decided(
    conn: Conn, item_id: int, status: str, staff_id: str, *, automatic: bool
) -> None:
    await conn.execute(
        "UPDATE work_items SET status = $2, decided_by = $3, automatic = $4, decided_at = now()"
        " WHERE id = $1 AND status = 'pending'",
        item_id,
        status,
        staff_id,
        automatic,
    )


# ---------------------------------------------------------------- audit


async def append_decision(
    conn: Conn,
    work: WorkItem,
    *,
    decision: str,
    staff_id: str,
    automatic: bool,
    reasons: Sequence[dict[str, Any]],
    note: str | None,
    event_message_id: UUID,
) -> datetime:
    decided_at: datetime = await conn.fetchval(
        "INSERT INTO decisions (work_item_id, application_id, revision, kecamatan, decision,"
        " staff_id, automatic, findings, reasons, note, event_message_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING decided_at",
        work.id,
        work.application_id,
        work.revision,
        work.kecamatan,
        decision,
        staff_id,
        automatic,
        [f.model_dump(mode="json") for f in work.findings],
        list(reasons),
        note,
        event_message_id,
    )
    return decided_at


async def decisions_of(conn: Conn, application_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, application_id, revision, kecamatan, decision, staff_id, automatic,"
        " findings, reasons, note, event_message_id, decided_at"
        " FROM decisions WHERE application_id = $1 ORDER BY id",
        application_id,
    )
    return [dict(r) for r in rows]
