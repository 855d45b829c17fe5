"""The intake stage's PostgreSQL queries (unqualified names; the pool's search_path is the
stage schema). Functions take a connection: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from services.runtime import sql
from services.runtime.db import Conn

MIGRATIONS = Path(__file__).parent / "migrations"

_COLUMNS = (
    "id, kecamatan, tracking_number, nik, application_type, state, active, revision, file,"
    " kk_scan_id, officer_id, accepted_at, revised_at, deadline, sent_back_reasons, sent_back_at,"
    " closed_reason, storage_place, ready_at, activated_at, chip_serial, collected_at,"
    " receipt_reference, updated_at"
)


@dataclass(frozen=True)
class Application:
    id: UUID
    kecamatan: str
    tracking_number: str
    nik: str
    application_type: str
    state: str
    active: bool
    revision: int
    file: dict[str, Any]
    kk_scan_id: UUID | None
    officer_id: str
    accepted_at: datetime
    revised_at: datetime
    deadline: datetime
    sent_back_reasons: list[dict[str, Any]] | None
    sent_back_at: datetime | None
    closed_reason: str | None
    storage_place: str | None
    ready_at: datetime | None
    activated_at: datetime | None
    chip_serial: str | None
    collected_at: datetime | None
    receipt_reference: str | None
    updated_at: datetime


def _app(row: Any) -> Application | None:
    return Application(**dict(row)) if row is not None else None


# ---------------------------------------------------------------- applications


async def next_serial(conn: Conn, kecamatan: str, day: date) -> int:
    """The day's next tracking serial for this office (rolled back with the transaction)."""
    value = await conn.fetchval(
        "INSERT INTO tracking_counters (kecamatan, day, last) VALUES ($1, $2, 1)"
        " ON CONFLICT (kecamatan, day) DO UPDATE SET last = tracking_counters.last + 1"
        " RETURNING last",
        kecamatan,
        day,
    )
    return int(value)


async def active_for_nik(conn: Conn, nik: str) -> Application | None:
    return _app(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM applications WHERE nik = $1 AND active", nik)
    )


@dataclass(frozen=True)
class AcceptedFile:
    """What an acceptance writes, for a new application and for a corrected revision alike."""

    nik: str
    application_type: str
    state: str
    file: dict[str, Any]
    kk_scan_id: UUID | None
    officer_id: str
    deadline: datetime

    def values(self) -> tuple[Any, ...]:
        """In the order of ``_ACCEPTED`` (the SQL's columns)."""
        return (
            self.nik,
            self.application_type,
            self.state,
            self.file,
            self.kk_scan_id,
            self.officer_id,
            self.deadline,
        )


_ACCEPTED = ("nik", "application_type", "state", "file", "kk_scan_id", "officer_id", "deadline")


async def insert_application(
    conn: Conn,
    accepted: AcceptedFile,
    *,
    id: UUID,
    kecamatan: str,
    tracking_number: str,
    accepted_at: datetime,
) -> None:
    """A new application, revision 1 (first accepted and last revised now)."""
    await conn.execute(
        f"INSERT INTO applications ({', '.join(_ACCEPTED)}, id, kecamatan, tracking_number,"
        " accepted_at, revised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        *accepted.values(),
        id,
        kecamatan,
        tracking_number,
        accepted_at,
    )


async def resubmit(
    conn: Conn, app_id: UUID, accepted: AcceptedFile, *, revision: int, revised_at: datetime
) -> None:
    """The corrected file as revision ``revision``."""
    sets = ", ".join(f"{name} = ${i + 1}" for i, name in enumerate(_ACCEPTED))
    await conn.execute(
        f"UPDATE applications SET {sets}, revision = $8, revised_at = $9, updated_at = now()"
        " WHERE id = $10",
        *accepted.values(),
        revision,
        revised_at,
        app_id,
    )


async def get(conn: Conn, app_id: UUID, *, for_update: bool = False) -> Application | None:
    lock = " FOR UPDATE" if for_update else ""
    return _app(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM applications WHERE id = $1{lock}", app_id)
    )


async def by_tracking_number(conn: Conn, number: str) -> Application | None:
    return _app(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM applications WHERE tracking_number = $1", number
        )
    )


async def in_states(
    conn: Conn, kecamatan: str, states: Sequence[str], limit: int = 500
) -> list[Application]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM applications WHERE kecamatan = $1 AND state = ANY($2::text[])"
        " ORDER BY updated_at, id LIMIT $3",
        kecamatan,
        list(states),
        limit,
    )
    return [Application(**dict(r)) for r in rows]


async def set_state(conn: Conn, app_id: UUID, state: str, **fields: Any) -> None:
    """Move to ``state`` and set the named columns (names come from this module's callers)."""
    sets = sql.assignments(["state", *fields], first=2)
    await conn.execute(
        f"UPDATE applications SET {sets}, updated_at = now() WHERE id = $1",
        app_id,
        str(state),
        *fields.values(),
    )


# ---------------------------------------------------------------- uploads, refusals, handovers


async def insert_upload(
    conn: Conn,
    *,
    id: UUID,
    kecamatan: str,
    kind: str,
    content_type: str,
    sha256: str,
    content: bytes,
) -> None:
    await conn.execute(
        "INSERT INTO uploads (id, kecamatan, kind, content_type, size, sha256, content)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        kecamatan,
        kind,
        content_type,
        len(content),
        sha256,
        content,
    )


@dataclass(frozen=True)
class Upload:
    id: UUID
    kecamatan: str
    kind: str
    content_type: str
    size: int
    sha256: str


async def get_upload(conn: Conn, upload_id: UUID) -> Upload | None:
    row = await conn.fetchrow(
        "SELECT id, kecamatan, kind, content_type, size, sha256 FROM uploads WHERE id = $1",
        upload_id,
    )
    return Upload(**dict(row)) if row is not None else None


async def record_refusal(
    conn: Conn,
    kecamatan: str,
    application_type: str | None,
    codes: Sequence[str],
    officer_id: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO refusals (kecamatan, application_type, problem_codes, officer_id)"
        " VALUES ($1, $2, $3, $4)",
        kecamatan,
        application_type,
        list(codes),
        officer_id,
    )


async def refusal_counts(
    conn: Conn, since: datetime, kecamatan: str | None
) -> tuple[int, dict[str, int]]:
    """Files refused since ``since`` and how often each reason was given, most frequent first."""
    where = " WHERE at >= $1 AND ($2::text IS NULL OR kecamatan = $2)"
    files = await conn.fetchval("SELECT count(*) FROM refusals" + where, since, kecamatan)
    rows = await conn.fetch(
        "SELECT code, count(*) AS n FROM refusals, unnest(problem_codes) AS code"
        + where
        + " GROUP BY code ORDER BY n DESC, code",
        since,
        kecamatan,
    )
    return int(files), {r["code"]: int(r["n"]) for r in rows}


async def insert_handover(
    conn: Conn,
    *,
    application_id: UUID,
    kecamatan: str,
    receipt_upload: UUID | None,
    scan_reference: str | None,
    receipt_reference: str,
    officer_id: str,
) -> None:
    await conn.execute(
        "INSERT INTO handovers (application_id, kecamatan, receipt_upload, scan_reference,"
        " receipt_reference, officer_id) VALUES ($1, $2, $3, $4, $5, $6)",
        application_id,
        kecamatan,
        receipt_upload,
        scan_reference,
        receipt_reference,
        officer_id,
    )
