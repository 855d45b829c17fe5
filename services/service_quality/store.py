"""All SQL of the service quality stage (unqualified names: search_path is the schema)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from services.runtime.db import Conn

MIGRATIONS = Path(__file__).parent / "migrations"

Row = dict[str, Any]

# ---------------------------------------------------------------- facts


async def record_fact(
    conn: Conn,
    message_id: UUID,
    event_type: str,
    kecamatan: str,
    application_id: str,
    occurred_at: datetime,
    payload: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO facts (message_id, type, kecamatan, application_id, occurred_at, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
        message_id,
        event_type,
        kecamatan,
        application_id,
        occurred_at,
        payload,
    )


async def facts_for_month(
    conn: Conn, start: datetime, end: datetime, kecamatan: str | None
) -> list[Row]:
    """The events that occurred in [start, end), and the whole history of every application
    whose card became ready or that was accepted in it (lead times need the earlier steps)."""
    rows = await conn.fetch(
        "WITH apps AS (SELECT DISTINCT application_id FROM facts"
        "  WHERE occurred_at >= $1 AND occurred_at < $2"
        "  AND type IN ('card.ready_for_collection', 'application.accepted')"
        "  AND ($3::text IS NULL OR kecamatan = $3))"
        " SELECT type, kecamatan, application_id, occurred_at, payload FROM facts"
        " WHERE ($3::text IS NULL OR kecamatan = $3)"
        " AND ((occurred_at >= $1 AND occurred_at < $2)"
        "      OR application_id IN (SELECT application_id FROM apps))"
        " ORDER BY occurred_at, message_id",
        start,
        end,
        kecamatan,
    )
    return [dict(r) for r in rows]


async def facts_since(conn: Conn, since: datetime, kecamatan: str | None) -> list[Row]:
    """Every event from ``since`` on, in occurrence order (``figures.now``)."""
    rows = await conn.fetch(
        "SELECT type, kecamatan, application_id, occurred_at, payload FROM facts"
        " WHERE occurred_at >= $1 AND ($2::text IS NULL OR kecamatan = $2)"
        " ORDER BY occurred_at, message_id",
        since,
        kecamatan,
    )
    return [dict(r) for r in rows]


async def count_facts(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM facts"))


# ---------------------------------------------------------------- complaints


async def next_serial(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('complaint_serial')"))


async def insert_complaint(conn: Conn, row: Row) -> None:
    columns = list(row)
    await conn.execute(
        f"INSERT INTO complaints ({', '.join(columns)})"
        f" VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})",
        *row.values(),
    )


async def add_history(
    conn: Conn, complaint_id: UUID, at: datetime, action: str, actor: str, note: str | None
) -> None:
    await conn.execute(
        "INSERT INTO complaint_history (complaint_id, at, action, actor, note)"
        " VALUES ($1, $2, $3, $4, $5)",
        complaint_id,
        at,
        action,
        actor,
        note,
    )


async def complaint(conn: Conn, ticket: str, *, lock: bool = False) -> Row | None:
    row = await conn.fetchrow(
        "SELECT * FROM complaints WHERE ticket = $1" + (" FOR UPDATE" if lock else ""), ticket
    )
    return dict(row) if row is not None else None


async def history(conn: Conn, complaint_id: UUID) -> list[Row]:
    rows = await conn.fetch(
        "SELECT at, action, actor, note FROM complaint_history WHERE complaint_id = $1 ORDER BY id",
        complaint_id,
    )
    return [dict(r) for r in rows]


async def complaints(
    conn: Conn,
    *,
    kecamatan: str | None,
    status: str | None = None,
    overdue_at: datetime | None = None,
    limit: int = 200,
) -> list[Row]:
    rows = await conn.fetch(
        "SELECT * FROM complaints WHERE ($1::text IS NULL OR kecamatan = $1)"
        " AND ($2::text IS NULL OR status = $2)"
        " AND ($3::timestamptz IS NULL OR (status <> 'closed' AND follow_up_due <= $3))"
        " ORDER BY received_at, ticket LIMIT $4",
        kecamatan,
        status,
        overdue_at,
        limit,
    )
    return [dict(r) for r in rows]


async def set_acknowledged(conn: Conn, complaint_id: UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE complaints SET status = 'acknowledged', acknowledged_at = $2 WHERE id = $1",
        complaint_id,
        at,
    )


async def close(conn: Conn, complaint_id: UUID, at: datetime, outcome: str) -> None:
    await conn.execute(
        "UPDATE complaints SET status = 'closed', closed_at = $2, outcome = $3,"
        " acknowledged_at = coalesce(acknowledged_at, $2) WHERE id = $1",
        complaint_id,
        at,
        outcome,
    )


async def escalate_overdue(conn: Conn, now: datetime) -> list[Row]:
    """Mark every open complaint past its follow-up deadline as escalated, once."""
    rows = await conn.fetch(
        "UPDATE complaints SET escalated_at = $1 WHERE id IN ("
        "  SELECT id FROM complaints WHERE status <> 'closed' AND escalated_at IS NULL"
        "  AND follow_up_due <= $1 ORDER BY follow_up_due LIMIT 500 FOR UPDATE SKIP LOCKED)"
        " RETURNING id, ticket, kecamatan, follow_up_due",
        now,
    )
    return [dict(r) for r in rows]


async def complaints_received(
    conn: Conn, start: datetime, end: datetime, kecamatan: str | None
) -> list[Row]:
    rows = await conn.fetch(
        "SELECT channel, category, received_at, closed_at, escalated_at FROM complaints"
        " WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR kecamatan = $3)",
        start,
        end,
        kecamatan,
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- mail


async def enqueue_mail(
    conn: Conn, complaint_id: UUID | None, sender: str, recipient: str, subject: str, body: str
) -> None:
    await conn.execute(
        "INSERT INTO outgoing_mail (complaint_id, sender, recipient, subject, body)"
        " VALUES ($1, $2, $3, $4, $5)",
        complaint_id,
        sender,
        recipient,
        subject,
        body,
    )


async def due_mail(conn: Conn, now: datetime, limit: int = 20) -> list[Row]:
    """Pending mail due now, locked for this transaction."""
    rows = await conn.fetch(
        "SELECT id, sender, recipient, subject, body, attempts FROM outgoing_mail"
        " WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2"
        " FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [dict(r) for r in rows]


async def mail_sent(conn: Conn, mail_id: int, at: datetime) -> None:
    await conn.execute(
        "UPDATE outgoing_mail SET status = 'sent', sent_at = $2, attempts = attempts + 1"
        " WHERE id = $1",
        mail_id,
        at,
    )


async def mail_failed(conn: Conn, mail_id: int, error: str, retry_at: datetime | None) -> None:
    """Another attempt at ``retry_at``, or failed for good when it is ``None``."""
    await conn.execute(
        "UPDATE outgoing_mail SET attempts = attempts + 1, last_error = $2,"
        " status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,"
        " next_attempt_at = coalesce($3, next_attempt_at) WHERE id = $1",
        mail_id,
        error[:500],
        retry_at,
    )


async def mail_of(conn: Conn, complaint_id: UUID) -> list[Row]:
    rows = await conn.fetch(
        "SELECT recipient, subject, status, sent_at FROM outgoing_mail"
        " WHERE complaint_id = $1 ORDER BY id",
        complaint_id,
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- mail in over IMAP


async def inbound_outcome(conn: Conn, mailbox: str, uidvalidity: int, uid: int) -> str | None:
    """What became of a message already taken from the mailbox (None: not taken yet)."""
    outcome: str | None = await conn.fetchval(
        "SELECT outcome FROM inbound_mail WHERE mailbox = $1 AND uidvalidity = $2 AND uid = $3",
        mailbox,
        uidvalidity,
        uid,
    )
    return outcome


async def filed_message(conn: Conn, message_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM inbound_mail WHERE message_id = $1 AND outcome = 'filed'", message_id
        )
    )


async def take_inbound(conn: Conn, row: Row, at: datetime) -> int | None:
    """Record a message as taken; None when another poller took it first (it waits for that
    poller's commit on the unique key)."""
    taken: int | None = await conn.fetchval(
        "INSERT INTO inbound_mail (mailbox, uidvalidity, uid, message_id, size, outcome, error,"
        " taken_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING RETURNING id",
        row["mailbox"],
        row["uidvalidity"],
        row["uid"],
        row.get("message_id"),
        row["size"],
        row["outcome"],
        row.get("error"),
        at,
    )
    return taken


async def inbound_tickets(conn: Conn, inbound_id: int, tickets: list[str]) -> None:
    await conn.execute("UPDATE inbound_mail SET tickets = $2 WHERE id = $1", inbound_id, tickets)


async def inbound_mail(conn: Conn, mailbox: str) -> list[Row]:
    """The messages taken from a mailbox, oldest first (the set-aside ones say why)."""
    rows = await conn.fetch(
        "SELECT uidvalidity, uid, message_id, size, outcome, tickets, error, taken_at"
        " FROM inbound_mail WHERE mailbox = $1 ORDER BY id",
        mailbox,
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- survey


async def invite(conn: Conn, token: str, application_id: str, kecamatan: str, at: datetime) -> bool:
    """False when this handover was invited already (a re-delivered event)."""
    status = await conn.execute(
        "INSERT INTO survey_invitations (token, application_id, kecamatan, invited_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO NOTHING",
        token,
        application_id,
        kecamatan,
        at,
    )
    return status.endswith(" 1")


async def invitation(conn: Conn, token: str, *, lock: bool = False) -> Row | None:
    row = await conn.fetchrow(
        "SELECT * FROM survey_invitations WHERE token = $1" + (" FOR UPDATE" if lock else ""),
        token,
    )
    return dict(row) if row is not None else None


async def save_response(conn: Conn, token: str, kecamatan: str, at: datetime, row: Row) -> None:
    await conn.execute("UPDATE survey_invitations SET answered_at = $2 WHERE token = $1", token, at)
    await conn.execute(
        "INSERT INTO survey_responses (token, kecamatan, submitted_at, age, sex, education,"
        " occupation, scores, suggestion) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        token,
        kecamatan,
        at,
        row["age"],
        row["sex"],
        row["education"],
        row["occupation"],
        list(row["scores"]),
        row["suggestion"],
    )


async def responses(conn: Conn, start: datetime, end: datetime, kecamatan: str | None) -> list[Row]:
    rows = await conn.fetch(
        "SELECT kecamatan, age, sex, education, occupation, scores FROM survey_responses"
        " WHERE submitted_at >= $1 AND submitted_at < $2 AND ($3::text IS NULL OR kecamatan = $3)"
        " ORDER BY id",
        start,
        end,
        kecamatan,
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- produced reports


async def report_months(conn: Conn, month: date) -> Sequence[str]:
    rows = await conn.fetch("SELECT kecamatan FROM monthly_reports WHERE month = $1", month)
    return [r["kecamatan"] for r in rows]


async def save_report(
    conn: Conn, month: date, kecamatan: str, at: datetime, pdf: bytes, csv: str
) -> None:
    await conn.execute(
        "INSERT INTO monthly_reports (month, kecamatan, produced_at, pdf, csv)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (month, kecamatan) DO UPDATE SET"
        " produced_at = EXCLUDED.produced_at, pdf = EXCLUDED.pdf, csv = EXCLUDED.csv",
        month,
        kecamatan,
        at,
        pdf,
        csv,
    )


async def produced_pdf(conn: Conn, month: date, kecamatan: str) -> bytes | None:
    pdf = await conn.fetchval(
        "SELECT pdf FROM monthly_reports WHERE month = $1 AND kecamatan = $2", month, kecamatan
    )
    return bytes(pdf) if pdf is not None else None


async def kecamatan_seen(conn: Conn) -> list[str]:
    rows = await conn.fetch(
        "SELECT kecamatan FROM facts UNION SELECT kecamatan FROM complaints ORDER BY 1"
    )
    return [r["kecamatan"] for r in rows]


# ---------------------------------------------------------------- SP4N-LAPOR!


async def lapor_due(conn: Conn, now: datetime, limit: int = 20) -> list[Row]:
    """Complaints to push (no LAPOR! id yet) or to pull (not final there), due now, locked."""
    rows = await conn.fetch(
        "SELECT id, ticket, kecamatan, channel, category, subject, body, received_at,"
        " lapor_id, lapor_status, lapor_attempts FROM complaints"
        " WHERE lapor_next_at <= $1 AND lapor_status IS DISTINCT FROM 'completed'"
        " ORDER BY lapor_next_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [dict(r) for r in rows]


async def lapor_synced(
    conn: Conn, complaint_id: UUID, lapor_id: str, status: str, next_at: datetime
) -> None:
    await conn.execute(
        "UPDATE complaints SET lapor_id = $2, lapor_status = $3, lapor_next_at = $4,"
        " lapor_attempts = 0, lapor_error = NULL WHERE id = $1",
        complaint_id,
        lapor_id,
        status,
        next_at,
    )


async def lapor_failed(conn: Conn, complaint_id: UUID, error: str, next_at: datetime) -> None:
    await conn.execute(
        "UPDATE complaints SET lapor_attempts = lapor_attempts + 1, lapor_error = $2,"
        " lapor_next_at = $3 WHERE id = $1",
        complaint_id,
        error[:500],
        next_at,
    )
