"""All SQL of the notification stage (unqualified names: search_path is the schema)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from services.notification.rules import Next
from services.runtime.db import Conn

MIGRATIONS = Path(__file__).parent / "migrations"


async def upsert_contact(
    conn: Conn,
    application_id: str,
    kecamatan: str,
    *,
    name: str,
    phone: str | None,
    tracking_number: str,
) -> None:
    await conn.execute(
        "INSERT INTO contacts (application_id, kecamatan, name, phone, tracking_number)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id) DO UPDATE SET"
        " kecamatan = EXCLUDED.kecamatan, name = EXCLUDED.name, phone = EXCLUDED.phone,"
        " tracking_number = EXCLUDED.tracking_number,"
        " wrong_number = contacts.wrong_number AND contacts.phone IS NOT DISTINCT FROM"
        " EXCLUDED.phone, updated_at = now()",
        application_id,
        kecamatan,
        name,
        phone,
        tracking_number,
    )


async def contact(conn: Conn, application_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM contacts WHERE application_id = $1", application_id)
    return dict(row) if row else None


async def opt_out(conn: Conn, application_id: str) -> bool:
    """Mark opted out; pending SMS are skipped. False if the application is unknown."""
    row = await conn.fetchrow(
        "UPDATE contacts SET opted_out = true, opted_out_at = coalesce(opted_out_at, now()),"
        " updated_at = now() WHERE application_id = $1 RETURNING application_id",
        application_id,
    )
    if row is None:
        return False
    await conn.execute(
        "UPDATE sms_outbox SET status = 'skipped', last_error = 'opted out'"
        " WHERE application_id = $1 AND status = 'pending'",
        application_id,
    )
    await conn.execute(
        "UPDATE call_tasks SET status = 'cancelled', closed_at = now(), note = 'opted out'"
        " WHERE application_id = $1 AND status = 'open'",
        application_id,
    )
    await conn.execute(
        "UPDATE reminders SET state = 'stopped', updated_at = now()"
        " WHERE application_id = $1 AND state = 'active'",
        application_id,
    )
    return True


async def enqueue_sms(
    conn: Conn,
    *,
    source_key: str,
    template: str,
    application_id: str,
    kecamatan: str,
    fields: dict[str, str],
    causation_id: UUID | None,
) -> bool:
    """A pending SMS, once per (source, template); True if it is new."""
    row = await conn.fetchrow(
        "INSERT INTO sms_outbox"
        " (source_key, template, application_id, kecamatan, fields, causation_id)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_key, template) DO NOTHING"
        " RETURNING id",
        source_key,
        template,
        application_id,
        kecamatan,
        fields,
        causation_id,
    )
    return row is not None


async def log_contact(
    conn: Conn, application_id: str, at: datetime, channel: str, what: str, detail: str | None
) -> None:
    await conn.execute(
        "INSERT INTO contact_log (application_id, at, channel, what, detail)"
        " VALUES ($1, $2, $3, $4, $5)",
        application_id,
        at,
        channel,
        what,
        detail,
    )


# ---------------------------------------------------------------- reminders


async def start_reminders(
    conn: Conn, application_id: str, kecamatan: str, ready_at: datetime, storage: str, nxt: Next
) -> None:
    await conn.execute(
        "INSERT INTO reminders (application_id, kecamatan, ready_at, storage_place, step,"
        " next_due, next_channel) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (application_id) DO UPDATE SET storage_place = EXCLUDED.storage_place,"
        " updated_at = now()",
        application_id,
        kecamatan,
        ready_at,
        storage,
        nxt.step,
        nxt.due,
        nxt.channel.value,
    )


async def ended_as(conn: Conn, application_id: str) -> str | None:
    """'collected' or 'stopped' if a stopping event came already (topics are not ordered
    among each other), else None."""
    ended: str | None = await conn.fetchval(
        "SELECT what FROM contact_log WHERE application_id = $1"
        " AND channel = 'desk' AND what IN ('collected', 'stopped') ORDER BY id LIMIT 1",
        application_id,
    )
    return ended


async def stored_at_desk(conn: Conn, application_id: str) -> str | None:
    """Where the desk last said it stored the card, if it did."""
    place: str | None = await conn.fetchval(
        "SELECT detail FROM contact_log WHERE application_id = $1"
        " AND channel = 'desk' AND what = 'stored' ORDER BY id DESC LIMIT 1",
        application_id,
    )
    return place


async def record_ended_card(
    conn: Conn, application_id: str, kecamatan: str, ready_at: datetime, storage: str, state: str
) -> None:
    """A ready card whose collection (or end) came first: on record, with nothing to remind."""
    await conn.execute(
        "INSERT INTO reminders (application_id, kecamatan, ready_at, storage_place, state)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id) DO NOTHING",
        application_id,
        kecamatan,
        ready_at,
        storage,
        state,
    )


async def set_storage(conn: Conn, application_id: str, storage: str) -> None:
    await conn.execute(
        "UPDATE reminders SET storage_place = $2, updated_at = now() WHERE application_id = $1",
        application_id,
        storage,
    )


async def stop_reminders(conn: Conn, application_id: str, state: str, why: str) -> None:
    """Stop the schedule, close open call tasks, cancel reminder SMS not yet sent."""
    await conn.execute(
        "UPDATE reminders SET state = $2, next_due = NULL, updated_at = now()"
        " WHERE application_id = $1 AND state = 'active'",
        application_id,
        state,
    )
    await conn.execute(
        "UPDATE call_tasks SET status = 'cancelled', closed_at = now(), note = $2"
        " WHERE application_id = $1 AND status = 'open'",
        application_id,
        why,
    )
    await conn.execute(
        "UPDATE sms_outbox SET status = 'cancelled', last_error = $2"
        " WHERE application_id = $1 AND status = 'pending' AND template = 'uncollected_reminder'",
        application_id,
        why,
    )


async def due_reminders(conn: Conn, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM reminders WHERE state = 'active' AND next_due <= $1"
        " ORDER BY next_due LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [dict(r) for r in rows]


async def reminder(conn: Conn, application_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    sql = "SELECT * FROM reminders WHERE application_id = $1"
    row = await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), application_id)
    return dict(row) if row else None


async def reschedule(conn: Conn, application_id: str, nxt: Next | None, *, fired: bool) -> None:
    await conn.execute(
        "UPDATE reminders SET step = coalesce($2, step), next_due = $3, next_channel = $4,"
        " override = $5, fired = fired + $6::int, updated_at = now() WHERE application_id = $1",
        application_id,
        nxt.step if nxt else None,
        nxt.due if nxt else None,
        nxt.channel.value if nxt else None,
        nxt.override if nxt else False,
        1 if fired else 0,
    )


async def open_call(conn: Conn, application_id: str, kecamatan: str, due: datetime) -> bool:
    row = await conn.fetchrow(
        "INSERT INTO call_tasks (application_id, kecamatan, due_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (application_id) WHERE status = 'open' DO NOTHING RETURNING id",
        application_id,
        kecamatan,
        due,
    )
    return row is not None


async def call_tasks(conn: Conn, kecamatan: str, *, with_phone: bool) -> list[dict[str, Any]]:
    """Open call tasks of a kecamatan: those with a phone number (the call list) or without
    one (the desk list: the office must reach the applicant another way)."""
    rows = await conn.fetch(
        "SELECT t.id, t.application_id, t.kecamatan, t.due_at, t.created_at,"
        " c.name, c.phone, c.tracking_number, r.storage_place, r.ready_at"
        " FROM call_tasks t LEFT JOIN contacts c USING (application_id)"
        " LEFT JOIN reminders r USING (application_id)"
        " WHERE t.status = 'open' AND t.kecamatan = $1 AND (c.phone IS NOT NULL) = $2"
        " ORDER BY t.due_at, t.id",
        kecamatan,
        with_phone,
    )
    return [dict(r) for r in rows]


async def active_reminders(conn: Conn, kecamatan: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT application_id, kecamatan, ready_at, step, next_due, next_channel, override"
        " FROM reminders WHERE state = 'active' AND kecamatan = $1 ORDER BY next_due",
        kecamatan,
    )
    return [dict(r) for r in rows]


async def history(conn: Conn, application_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    rows = await conn.fetch(
        "SELECT application_id, at, channel, what, detail FROM contact_log"
        " WHERE application_id = ANY($1::text[]) ORDER BY id",
        list(application_ids),
    )
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in application_ids}
    for r in rows:
        out[r["application_id"]].append(
            {"at": r["at"], "channel": r["channel"], "what": r["what"], "detail": r["detail"]}
        )
    return out


async def call_task(conn: Conn, task_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM call_tasks WHERE id = $1 FOR UPDATE", task_id)
    return dict(row) if row else None


async def close_call(
    conn: Conn,
    task_id: int,
    outcome: str,
    come_on: date | None,
    officer_id: str | None,
    note: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE call_tasks SET status = 'done', outcome = $2, come_on = $3, officer_id = $4,"
        " note = $5, closed_at = $6 WHERE id = $1",
        task_id,
        outcome,
        come_on,
        officer_id,
        note,
        at,
    )


async def flag_wrong_number(conn: Conn, application_id: str) -> None:
    await conn.execute(
        "UPDATE contacts SET wrong_number = true, updated_at = now() WHERE application_id = $1",
        application_id,
    )
    await conn.execute(
        "UPDATE reminders SET state = 'wrong_number', next_due = NULL, updated_at = now()"
        " WHERE application_id = $1",
        application_id,
    )


async def desk_flags(conn: Conn, kecamatan: str | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT c.application_id, c.kecamatan, c.name, c.phone, c.tracking_number,"
        " r.storage_place, r.ready_at FROM contacts c LEFT JOIN reminders r USING"
        " (application_id) WHERE c.wrong_number AND ($1::text IS NULL OR c.kecamatan = $1)"
        " AND coalesce(r.state, '') <> 'collected' ORDER BY c.application_id",
        kecamatan,
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- messages


async def messages(
    conn: Conn,
    *,
    status: str | None,
    kecamatan: str | None,
    application_id: str | None,
    template: str | None,
    after: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT m.id, m.application_id, m.kecamatan, m.template, m.source_key, m.status,"
        " m.attempts, m.last_error, m.smsc_message_ids, m.created_at, m.sent_at,"
        " (SELECT json_agg(json_build_object('id', r.smsc_message_id, 'stat', r.stat))"
        "  FROM sms_receipts r WHERE r.sms_id = m.id) AS receipts"
        " FROM sms_outbox m WHERE ($1::text IS NULL OR m.status = $1)"
        " AND ($2::text IS NULL OR m.kecamatan = $2)"
        " AND ($3::text IS NULL OR m.application_id = $3)"
        " AND ($5::text IS NULL OR m.template = $5) AND ($6::bigint IS NULL OR m.id > $6)"
        " ORDER BY m.id LIMIT $4",
        status,
        kecamatan,
        application_id,
        limit,
        template,
        after,
    )
    out = []
    for r in rows:
        d = dict(r)
        receipts = d.pop("receipts")
        d["receipts"] = json.loads(receipts) if isinstance(receipts, str) else (receipts or [])
        out.append(d)
    return out


_CLAIM = """
UPDATE sms_outbox SET lease_until = now() + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM sms_outbox
    WHERE status = 'pending' AND next_attempt_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING id, source_key, template, application_id, kecamatan, causation_id, fields, attempts,
          submitting_since
"""


async def claim_sms(conn: Conn, batch: int, lease_s: float) -> list[dict[str, Any]]:
    """Lease pending SMS due now, oldest first; a lease that expires (a crash) frees the row."""
    rows = await conn.fetch(_CLAIM, batch, lease_s)
    return sorted((dict(r) for r in rows), key=lambda r: int(r["id"]))


async def mark_sent(
    conn: Conn, sms_id: int, phone: str, text: str, message_ids: Sequence[str]
) -> None:
    await conn.execute(
        "UPDATE sms_outbox SET status = 'sent', sent_at = now(), phone = $2, text = $3,"
        " smsc_message_ids = $4, attempts = attempts + 1, lease_until = NULL,"
        " submitting_since = NULL WHERE id = $1",
        sms_id,
        phone,
        text,
        list(message_ids),
    )
    await conn.executemany(
        "INSERT INTO sms_receipts (smsc_message_id, sms_id) VALUES ($1, $2)"
        " ON CONFLICT (smsc_message_id) DO UPDATE SET sms_id = EXCLUDED.sms_id",
        [(mid, sms_id) for mid in message_ids],
    )


async def begin_submit(conn: Conn, sms_id: int) -> None:
    """Note that a submit starts now (committed before it: see migration 003)."""
    await conn.execute("UPDATE sms_outbox SET submitting_since = now() WHERE id = $1", sms_id)


async def mark_failed(conn: Conn, sms_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE sms_outbox SET status = 'failed', attempts = attempts + 1,"
        " last_error = $2, lease_until = NULL, submitting_since = NULL WHERE id = $1",
        sms_id,
        error,
    )


async def mark_finished(conn: Conn, sms_id: int, status: str, why: str) -> None:
    await conn.execute(
        "UPDATE sms_outbox SET status = $2, last_error = $3, lease_until = NULL WHERE id = $1",
        sms_id,
        status,
        why,
    )


async def retry_later(conn: Conn, sms_id: int, attempts: int, error: str, delay_s: float) -> None:
    await conn.execute(
        "UPDATE sms_outbox SET attempts = $2, last_error = $3, lease_until = NULL,"
        " submitting_since = NULL, next_attempt_at = now() + make_interval(secs => $4)"
        " WHERE id = $1",
        sms_id,
        attempts,
        error,
        delay_s,
    )


async def record_receipt(
    conn: Conn, message_id: str, stat: str | None, err: str | None, done_date: str | None
) -> None:
    await conn.execute(
        "INSERT INTO sms_receipts (smsc_message_id, stat, err, done_date, received_at)"
        " VALUES ($1, $2, $3, $4, now()) ON CONFLICT (smsc_message_id) DO UPDATE SET"
        " stat = EXCLUDED.stat, err = EXCLUDED.err, done_date = EXCLUDED.done_date,"
        " received_at = EXCLUDED.received_at",
        message_id,
        stat,
        err,
        done_date,
    )
