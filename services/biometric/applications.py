"""Queries on the stage's work tables: applications (the recording queue) and adjudication
cases. Unqualified names; the connection's search_path is the stage schema."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas.application import ApplicationType
from schemas.events import ApplicationValidated
from services.runtime.db import Conn


class State(StrEnum):
    QUEUED = "queued"
    DUPLICATE_SUSPECTED = "duplicate_suspected"
    PRINT_READY = "print_ready"
    DUPLICATE_CONFIRMED = "duplicate_confirmed"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    CLEAR = "clear"  # not the same person: print
    CONFIRM = "confirm"  # the same person under another identity: the application ends


@dataclass(frozen=True)
class Application:
    application_id: uuid.UUID
    kecamatan: str
    nik: str
    tracking_number: str
    application_type: ApplicationType
    validated: ApplicationValidated
    validated_message_id: uuid.UUID
    state: State
    skipped: bool
    record_id: uuid.UUID | None
    operator_id: str | None
    received_at: datetime

    def __repr__(self) -> str:  # keep the NIK and biodata out of logs and tracebacks
        return f"Application({self.application_id}, kecamatan={self.kecamatan}, {self.state})"


_COLUMNS = (
    "application_id, kecamatan, nik, tracking_number, application_type, validated,"
    " validated_message_id, state, skipped, record_id, operator_id, received_at"
)


def _application(row: Any) -> Application:
    return Application(
        application_id=row["application_id"],
        kecamatan=row["kecamatan"],
        nik=row["nik"],
        tracking_number=row["tracking_number"],
        application_type=ApplicationType(row["application_type"]),
        validated=ApplicationValidated.model_validate(row["validated"]),
        validated_message_id=row["validated_message_id"],
        state=State(row["state"]),
        skipped=row["skipped"],
        record_id=row["record_id"],
        operator_id=row["operator_id"],
        received_at=row["received_at"],
    )


async def insert(
    conn: Conn,
    *,
    application_id: uuid.UUID,
    kecamatan: str,
    validated: ApplicationValidated,
    validated_message_id: uuid.UUID,
    state: State,
    record_id: uuid.UUID | None = None,
    skipped: bool = False,
) -> bool:
    """Add an application; False if this stage already has it (nothing changes then)."""
    inserted = await conn.fetchval(
        "INSERT INTO applications (application_id, kecamatan, nik, tracking_number,"
        " application_type, validated, validated_message_id, state, skipped, record_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (application_id) DO NOTHING RETURNING application_id",
        application_id,
        kecamatan,
        validated.applicant.nik,
        validated.tracking_number,
        validated.application_type.value,
        validated.model_dump(mode="json"),
        validated_message_id,
        state.value,
        skipped,
        record_id,
    )
    return inserted is not None


async def exists(conn: Conn, application_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE application_id = $1)",
            application_id,
        )
    )


async def get(conn: Conn, application_id: uuid.UUID, *, lock: bool = False) -> Application | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM applications WHERE application_id = $1"
        + (" FOR UPDATE" if lock else ""),
        application_id,
    )
    return None if row is None else _application(row)


async def queue(conn: Conn, kecamatan: str, limit: int = 200) -> list[Application]:
    """The recording queue of one kecamatan, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM applications WHERE state = 'queued' AND kecamatan = $1"
        " ORDER BY received_at, application_id LIMIT $2",
        kecamatan,
        limit,
    )
    return [_application(r) for r in rows]


async def set_state(
    conn: Conn,
    application_id: uuid.UUID,
    state: State,
    *,
    record_id: uuid.UUID | None = None,
    operator_id: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE applications SET state = $2, record_id = COALESCE($3, record_id),"
        " operator_id = COALESCE($4, operator_id), updated_at = now()"
        " WHERE application_id = $1",
        application_id,
        state.value,
        record_id,
        operator_id,
    )


async def claim_for_auto_capture(conn: Conn, limit: int, retry_after_s: float) -> list[uuid.UUID]:
    """Queued applications for the automatic operator, each taken by one instance at a time
    (a claim older than ``retry_after_s`` is taken again: its instance died or failed)."""
    rows = await conn.fetch(
        "UPDATE applications SET auto_claimed_at = now() WHERE application_id IN ("
        "  SELECT application_id FROM applications WHERE state = 'queued'"
        "  AND (auto_claimed_at IS NULL"
        "       OR auto_claimed_at < now() - make_interval(secs => $2))"
        "  ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING application_id",
        limit,
        retry_after_s,
    )
    return [r["application_id"] for r in rows]


async def released_to(conn: Conn, record_id: uuid.UUID, kecamatan: str) -> bool:
    """Was this record released for printing to this kecamatan's station?"""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE record_id = $1"
            " AND kecamatan = $2 AND state = 'print_ready')",
            record_id,
            kecamatan,
        )
    )


async def record_blocked(conn: Conn, record_id: uuid.UUID) -> bool:
    """Is this record under an open duplicate case, or a confirmed duplicate?"""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM adjudication_cases WHERE record_id = $1"
            " AND (decision IS NULL OR decision = 'confirm'))",
            record_id,
        )
    )


async def count_queued(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM applications WHERE state = 'queued'"))


# ---------------------------------------------------------------- adjudication


@dataclass(frozen=True)
class Case:
    case_id: str
    application_id: uuid.UUID
    kecamatan: str
    record_id: uuid.UUID
    candidates: Sequence[dict[str, Any]]  # [{record_id, kecamatan, score}], best first
    decision: Decision | None
    officer_id: str | None
    opened_at: datetime
    decided_at: datetime | None


def _case(row: Any) -> Case:
    return Case(
        case_id=row["case_id"],
        application_id=row["application_id"],
        kecamatan=row["kecamatan"],
        record_id=row["record_id"],
        candidates=row["candidates"],
        decision=Decision(row["decision"]) if row["decision"] else None,
        officer_id=row["officer_id"],
        opened_at=row["opened_at"],
        decided_at=row["decided_at"],
    )


_CASE_COLUMNS = (
    "case_id, application_id, kecamatan, record_id, candidates, decision, officer_id,"
    " opened_at, decided_at"
)


async def open_case(
    conn: Conn,
    *,
    case_id: str,
    application_id: uuid.UUID,
    kecamatan: str,
    record_id: uuid.UUID,
    candidates: Sequence[dict[str, Any]],
) -> None:
    await conn.execute(
        "INSERT INTO adjudication_cases (case_id, application_id, kecamatan, record_id,"
        " candidates) VALUES ($1, $2, $3, $4, $5)",
        case_id,
        application_id,
        kecamatan,
        record_id,
        list(candidates),
    )


async def open_cases(conn: Conn, kecamatan: str, limit: int = 200) -> list[Case]:
    rows = await conn.fetch(
        f"SELECT {_CASE_COLUMNS} FROM adjudication_cases"
        " WHERE decision IS NULL AND kecamatan = $1 ORDER BY opened_at, case_id LIMIT $2",
        kecamatan,
        limit,
    )
    return [_case(r) for r in rows]


async def get_case(conn: Conn, case_id: str, *, lock: bool = False) -> Case | None:
    row = await conn.fetchrow(
        f"SELECT {_CASE_COLUMNS} FROM adjudication_cases WHERE case_id = $1"
        + (" FOR UPDATE" if lock else ""),
        case_id,
    )
    return None if row is None else _case(row)


async def decide(
    conn: Conn, case_id: str, decision: Decision, officer_id: str, note: str | None
) -> None:
    await conn.execute(
        "UPDATE adjudication_cases SET decision = $2, officer_id = $3, note = $4,"
        " decided_at = now() WHERE case_id = $1",
        case_id,
        decision.value,
        officer_id,
        note,
    )
