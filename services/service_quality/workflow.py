"""The stage's work: record the pipeline's events, invite survey answers after a handover,
and move complaints (receive, acknowledge, follow up, escalate). Called by ``api/`` and
``handlers.py``; the only module that decides what happens next."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from schemas.envelope import Envelope
from schemas.events import ComplaintAnswered, SurveyInvited
from schemas.topics import Topics
from schemas.workdays import WorkingCalendar
from services.runtime import outbox
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.service_quality import letters, rules, store
from services.service_quality.clock import Clock
from services.service_quality.ikm import ELEMENTS
from services.service_quality.rules import ComplaintChannel, Status
from services.service_quality.settings import ServiceQualitySettings


@dataclass
class Context:
    settings: ServiceQualitySettings
    clock: Clock
    topics: Topics
    calendar: WorkingCalendar = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = self.settings.calendar()


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    pass


# ---------------------------------------------------------------- events


async def record_event(conn: Conn, ctx: Context, event: Envelope) -> list[Emit]:
    """Keep the event for the reports; a handover invites the applicant to the survey."""
    await store.record_fact(
        conn,
        event.message_id,
        event.type,
        event.kecamatan,
        str(event.correlation_id),
        event.occurred_at,
        event.payload.model_dump(mode="json"),
    )
    if event.type != "card.collected":
        return []
    token = secrets.token_urlsafe(16)
    if not await store.invite(
        conn, token, str(event.application_id), event.kecamatan, event.occurred_at
    ):
        return []
    url = f"{ctx.settings.public_url.rstrip('/')}/survey/{token}"
    invited = event.caused(SurveyInvited(survey_url=url))
    return [Emit(ctx.topics.for_event(invited.type, invited.kecamatan), invited)]


# ---------------------------------------------------------------- complaints


@dataclass(frozen=True)
class NewComplaint:
    kecamatan: str
    channel: ComplaintChannel
    category: rules.Category
    subject: str
    body: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    application_ref: str | None = None
    received_at: datetime | None = None  # a suggestion-box note: when it was dropped in


async def receive(conn: Conn, ctx: Context, new: NewComplaint, actor: str) -> dict[str, Any]:
    """Register a complaint with its ticket and deadlines; an e-mail address gets the
    acknowledgement with the ticket number."""
    now = ctx.clock.now()
    received_at = min(new.received_at or now, now)
    due = rules.deadlines(
        ctx.calendar,
        received_at,
        ctx.settings.acknowledge_working_days,
        ctx.settings.follow_up_working_days,
    )
    complaint_id = uuid4()
    ticket = rules.ticket_number(
        new.kecamatan,
        received_at.astimezone(ctx.calendar.hours.zone),
        await store.next_serial(conn),
    )
    row = {
        "id": complaint_id,
        "ticket": ticket,
        "kecamatan": new.kecamatan,
        "channel": new.channel.value,
        "category": new.category.value,
        "application_ref": new.application_ref,
        "name": new.name,
        "email": new.email,
        "phone": new.phone,
        "subject": new.subject,
        "body": new.body,
        "received_at": received_at,
        "ack_due": due.acknowledge_by,
        "follow_up_due": due.follow_up_by,
    }
    await store.insert_complaint(conn, row)
    await store.add_history(conn, complaint_id, now, "received", actor, new.channel.value)
    if new.email:
        subject, body = letters.acknowledgement(
            ticket, new.subject, due.follow_up_by, ctx.calendar.hours
        )
        await _mail(conn, ctx, complaint_id, new.kecamatan, new.email, subject, body)
        await store.add_history(conn, complaint_id, now, "acknowledged", "system", "e-mail")
        await store.set_acknowledged(conn, complaint_id, now)
    return row


async def _mail(
    conn: Conn,
    ctx: Context,
    complaint_id: UUID,
    kecamatan: str,
    recipient: str,
    subject: str,
    body: str,
) -> None:
    sender = ctx.settings.mailbox_of(kecamatan)
    await store.enqueue_mail(conn, complaint_id, sender, recipient, subject, body)


async def _mine(conn: Conn, ticket: str, kecamatan: str | None) -> dict[str, Any]:
    row = await store.complaint(conn, ticket, lock=True)
    if row is None or (kecamatan is not None and row["kecamatan"] != kecamatan):
        raise NotFound(f"no complaint {ticket}")
    return row


async def _open(conn: Conn, ticket: str, kecamatan: str | None) -> dict[str, Any]:
    row = await _mine(conn, ticket, kecamatan)
    if row["status"] == Status.CLOSED:
        raise Conflict(f"complaint {ticket} is closed already")
    return row


async def acknowledge(
    conn: Conn, ctx: Context, ticket: str, kecamatan: str | None, officer: str, note: str | None
) -> dict[str, Any]:
    row = await _open(conn, ticket, kecamatan)
    if row["status"] == Status.ACKNOWLEDGED:
        # what was asked holds already (a resend after a lost answer): nothing more to do
        return await details(conn, ticket)
    now = ctx.clock.now()
    await store.set_acknowledged(conn, row["id"], now)
    await store.add_history(conn, row["id"], now, "acknowledged", officer, note)
    return await details(conn, ticket)


async def follow_up(
    conn: Conn, ctx: Context, ticket: str, kecamatan: str | None, officer: str, outcome: str
) -> dict[str, Any]:
    """Close with the outcome; the complainant is told by e-mail when they gave an address,
    else by SMS when they gave a phone number (``complaint.answered``: notification's SMS
    path sends it), else the officer records how they told them, in ``outcome``.

    The same follow-up sent again (a retry after a lost answer) answers as the first did and
    tells nobody twice; another outcome for a closed complaint is a conflict."""
    row = await _mine(conn, ticket, kecamatan)
    if row["status"] == Status.CLOSED and row["outcome"] == outcome:
        return await details(conn, ticket)
    row = await _open(conn, ticket, kecamatan)
    now = ctx.clock.now()
    await store.close(conn, row["id"], now, outcome)
    await store.add_history(conn, row["id"], now, "followed_up", officer, outcome)
    if row["email"]:
        subject, body = letters.outcome(ticket, row["subject"], outcome)
        await _mail(conn, ctx, row["id"], row["kecamatan"], row["email"], subject, body)
    elif row["phone"]:
        answered = Envelope.new(
            ComplaintAnswered(
                ticket=ticket,
                name=row["name"],
                phone=row["phone"],
                outcome=letters.sms_outcome(outcome),
            ),
            application_id=row["id"],  # the complaint's id
            kecamatan=row["kecamatan"],
        )
        topic = ctx.topics.for_event(answered.type, answered.kecamatan)
        await outbox.enqueue(conn, [Emit(topic, answered)])
        await store.add_history(conn, row["id"], now, "told_by_sms", "system", None)
    return await details(conn, ticket)


async def escalate(conn: Conn, ctx: Context) -> list[dict[str, Any]]:
    """Every open complaint past its follow-up deadline goes to the camat, once."""
    now = ctx.clock.now()
    rows = await store.escalate_overdue(conn, now)
    for row in rows:
        await store.add_history(
            conn, row["id"], now, "escalated", "system", "tindak lanjut terlambat: ke camat"
        )
    return rows


async def details(conn: Conn, ticket: str) -> dict[str, Any]:
    row = await store.complaint(conn, ticket)
    if row is None:
        raise NotFound(f"no complaint {ticket}")
    row["history"] = await store.history(conn, row["id"])
    row["mail"] = await store.mail_of(conn, row["id"])
    return row


# ---------------------------------------------------------------- survey


@dataclass(frozen=True)
class Answer:
    age: int
    sex: str
    education: str
    occupation: str
    scores: tuple[int, ...]
    suggestion: str | None = None

    def __post_init__(self) -> None:
        if len(self.scores) != len(ELEMENTS):
            raise ValueError("nine scores are needed")


async def survey_for(conn: Conn, token: str) -> dict[str, Any]:
    found = await store.invitation(conn, token)
    if found is None:
        raise NotFound("unknown survey link")
    return found


async def answer_survey(conn: Conn, ctx: Context, token: str, answer: Answer) -> None:
    """One response per link: a second answer is refused."""
    found = await store.invitation(conn, token, lock=True)
    if found is None:
        raise NotFound("unknown survey link")
    if found["answered_at"] is not None:
        raise Conflict("this survey link has been used already")
    await store.save_response(
        conn,
        token,
        found["kecamatan"],
        ctx.clock.now(),
        {
            "age": answer.age,
            "sex": answer.sex,
            "education": answer.education,
            "occupation": answer.occupation,
            "scores": answer.scores,
            "suggestion": answer.suggestion,
        },
    )
