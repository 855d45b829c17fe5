"""The notification stage's work: what each consumed event, due reminder, call outcome and SMS
attempt changes, and the events it emits. The only module that decides what happens next."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from schemas.application import Applicant
from schemas.envelope import Envelope
from schemas.events import (
    CallLogged,
    Channel,
    ComplaintAnswered,
    NotificationFailed,
    NotificationSent,
)
from schemas.topics import Topics
from services.notification import rules, store
from services.notification.settings import NotificationSettings, ReminderChannel
from services.notification.sms.templates import Template
from services.runtime import outbox, status
from services.runtime.db import Conn
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.notification")

DUE_BATCH = 100  # reminders fired per transaction


class NotFound(LookupError):
    pass


class AlreadyClosed(RuntimeError):
    pass


# ---------------------------------------------------------------- consumed events


async def contact_seen(
    conn: Conn, event: Envelope, applicant: Applicant, tracking_number: str
) -> None:
    await store.upsert_contact(
        conn,
        str(event.application_id),
        event.kecamatan,
        name=applicant.name,
        phone=applicant.phone,
        tracking_number=tracking_number,
    )


async def complaint_contact(conn: Conn, event: Envelope, answered: ComplaintAnswered) -> None:
    """A complainant to tell the outcome by SMS: a contact keyed by the complaint's id."""
    await store.upsert_contact(
        conn,
        str(event.application_id),
        event.kecamatan,
        name=answered.name or "",
        phone=answered.phone,
        tracking_number=answered.ticket,
    )


async def event_sms(conn: Conn, settings: NotificationSettings, event: Envelope) -> None:
    """The SMS this event asks for, if any, once per event."""
    template = rules.EVENT_TEMPLATES.get(event.type)
    if template is None:
        return
    await store.enqueue_sms(
        conn,
        source_key=str(event.message_id),
        template=template.value,
        application_id=str(event.application_id),
        kecamatan=event.kecamatan,
        fields=rules.event_fields(event, settings.office(event.kecamatan).hours),
        causation_id=event.message_id,
    )


async def card_ready(
    conn: Conn, settings: NotificationSettings, event: Envelope, storage_place: str
) -> None:
    """Start the uncollected-card schedule; a card collected already (the collection came
    first) is put on record as collected, with nothing to remind."""
    app = str(event.application_id)
    ready_at = event.occurred_at
    # the desk's storage place, if its news came first, is where the card is now
    storage_place = await store.stored_at_desk(conn, app) or storage_place
    ended = await store.ended_as(conn, app)
    if ended is not None:
        await store.record_ended_card(conn, app, event.kecamatan, ready_at, storage_place, ended)
        return
    hours = settings.office(event.kecamatan).hours
    nxt = rules.next_regular(settings.reminders, hours, ready_at, 0, ready_at)
    await store.start_reminders(conn, app, event.kecamatan, ready_at, storage_place, nxt)
    await store.log_contact(conn, app, ready_at, "desk", "card_ready", storage_place)
    contact = await store.contact(conn, app)
    if contact is not None and contact["opted_out"]:
        await store.stop_reminders(conn, app, "stopped", "opted out")


async def card_stored(conn: Conn, event: Envelope, storage_place: str) -> None:
    """The desk put the uncollected card in storage: on the contact log (so a ``card.ready``
    arriving after it still learns the place), and on its reminders if they have begun."""
    app = str(event.application_id)
    await store.log_contact(conn, app, event.occurred_at, "desk", "stored", storage_place)
    await store.set_storage(conn, app, storage_place)


async def no_more_reminders(conn: Conn, event: Envelope) -> None:
    """The card was collected or the application ended: stop reminding."""
    app = str(event.application_id)
    state = "collected" if event.type == "card.collected" else "stopped"
    await store.log_contact(conn, app, event.occurred_at, "desk", state, event.type)
    await store.stop_reminders(conn, app, state, event.type)


# ---------------------------------------------------------------- reminders and calls


async def fire_due(conn: Conn, settings: NotificationSettings, now: datetime) -> int:
    """Fire up to DUE_BATCH reminders due at ``now`` (an SMS, or a task on the call list or,
    without a phone number, the desk list); return how many."""
    due = await store.due_reminders(conn, now, DUE_BATCH)
    for row in due:
        await _fire(conn, settings, row, now)
    return len(due)


async def _fire(
    conn: Conn, settings: NotificationSettings, row: dict[str, Any], now: datetime
) -> None:
    app, kecamatan = str(row["application_id"]), str(row["kecamatan"])
    ready_at: datetime = row["ready_at"]
    step, fired = int(row["step"]), int(row["fired"])
    hours = settings.office(kecamatan).hours
    if ReminderChannel(row["next_channel"]) is ReminderChannel.SMS:
        local = ready_at.astimezone(hours.zone)
        await store.enqueue_sms(
            conn,
            source_key=f"reminder:{app}:{fired + 1}",
            template=Template.UNCOLLECTED_REMINDER.value,
            application_id=app,
            kecamatan=kecamatan,
            fields={"ready_since": f"{local:%d-%m-%Y}"},
            causation_id=None,
        )
        await store.log_contact(conn, app, now, "sms", "reminder_due", None)
    elif await store.open_call(conn, app, kecamatan, row["next_due"]):
        await store.log_contact(conn, app, now, "phone_call", "call_due", None)
    if not row["override"]:
        step += 1
    nxt = rules.next_regular(settings.reminders, hours, ready_at, step, now)
    await store.reschedule(conn, app, nxt, fired=True)
    log.info("reminder %s fired for an application (%s)", fired + 1, row["next_channel"])


async def record_outcome(
    conn: Conn,
    settings: NotificationSettings,
    call_id: int,
    outcome: rules.Outcome,
    *,
    come_on: date | None,
    officer_id: str | None,
    note: str | None,
    now: datetime,
) -> rules.Next | None:
    """Close a call with its outcome; the schedule adapts. Returns the next contact, if any."""
    task = await store.call_task(conn, call_id)
    if task is None:
        raise NotFound(f"no call {call_id}")
    if task["status"] != "open":
        raise AlreadyClosed(f"call {call_id} is already {task['status']}")
    app = task["application_id"]
    rem = await store.reminder(conn, app, lock=True)
    await store.close_call(conn, call_id, outcome.value, come_on, officer_id, note, now)
    detail = come_on.isoformat() if come_on else note
    await store.log_contact(conn, app, now, "phone_call", outcome.value, detail)
    logged = Envelope.new(
        CallLogged(call_id=call_id, outcome=outcome.value, come_on=come_on),
        application_id=UUID(app),
        kecamatan=task["kecamatan"],
    )  # for the monthly report's calls and outcomes (service_quality)
    topics = Topics(settings.connections.tuntas_topic_prefix)
    await outbox.enqueue(conn, [Emit(topics.notification_events, logged)])
    if outcome is rules.Outcome.WRONG_NUMBER:
        await store.flag_wrong_number(conn, app)
        return None
    if rem is None or rem["state"] != "active":
        return None
    nxt = rules.after_outcome(
        outcome,
        schedule=settings.reminders,
        hours=settings.office(task["kecamatan"]).hours,
        ready_at=rem["ready_at"],
        step=rem["step"],
        now=now,
        come_on=come_on,
    )
    await store.reschedule(conn, app, nxt, fired=False)
    return nxt


async def opt_out(conn: Conn, application_id: str) -> bool:
    """No more SMS or calls for this applicant; False if the application is unknown."""
    return await store.opt_out(conn, application_id)


# ---------------------------------------------------------------- SMS attempts


@dataclass(frozen=True)
class Outgoing:
    phone: str
    text: str


async def prepare_sms(
    conn: Conn, settings: NotificationSettings, topics: Topics, row: dict[str, Any]
) -> Outgoing | None:
    """What to submit for a leased SMS row, or None when it is settled here instead
    (skipped, failed, or put back for later)."""
    contact = await store.contact(conn, row["application_id"])
    if contact is None:
        # The accepted event may still be on its way (topics are not ordered together).
        await sms_not_accepted(conn, settings, topics, row, "no contact for this application yet")
        return None
    if contact["opted_out"]:
        await store.mark_finished(conn, row["id"], "skipped", "opted out")
        return None
    if not contact["phone"]:
        await store.mark_finished(conn, row["id"], "skipped", "no phone number")
        return None
    try:
        text = rules.sms_text(
            settings, Template(row["template"]), row["kecamatan"], contact, row["fields"]
        )
    except (ValueError, KeyError) as e:
        await sms_failed(conn, topics, row, f"template: {e}")
        return None
    return Outgoing(contact["phone"], text)


async def sms_sent(
    conn: Conn, topics: Topics, row: dict[str, Any], sms: Outgoing, message_ids: tuple[str, ...]
) -> None:
    ids = ",".join(message_ids)
    await store.mark_sent(conn, row["id"], sms.phone, sms.text, message_ids)
    await _log_sms(conn, row, "sent", ids)
    payload = NotificationSent(
        channel=Channel.SMS, purpose=row["template"], provider_reference=ids[:128]
    )
    await _emit(conn, topics, row, payload)


async def sms_failed(conn: Conn, topics: Topics, row: dict[str, Any], error: str) -> None:
    log.warning("SMS %s failed: %s", row["id"], error)
    await store.mark_failed(conn, row["id"], error[:500])
    await _log_sms(conn, row, "failed", error[:200])
    short = " ".join(error.split())[:190] or "unknown error"
    await _emit(
        conn,
        topics,
        row,
        NotificationFailed(channel=Channel.SMS, purpose=row["template"], reason=short),
    )


async def sms_not_accepted(
    conn: Conn, settings: NotificationSettings, topics: Topics, row: dict[str, Any], error: str
) -> None:
    """A transient failure: try again later with exponential backoff, or give up."""
    attempts = row["attempts"] + 1
    if attempts >= settings.send_max_attempts:
        await sms_failed(conn, topics, row, error)
        return
    delay = min(settings.send_retry_max_s, settings.send_retry_base_s * 2 ** (attempts - 1))
    log.warning("SMS %s: %s; retry %d in %.0fs", row["id"], error, attempts, delay)
    await store.retry_later(conn, row["id"], attempts, error[:500], delay)


async def _log_sms(conn: Conn, row: dict[str, Any], what: str, detail: str) -> None:
    app, template = row["application_id"], row["template"]
    await store.log_contact(conn, app, datetime.now(UTC), "sms", f"{template}:{what}", detail)


async def _emit(
    conn: Conn, topics: Topics, row: dict[str, Any], payload: NotificationSent | NotificationFailed
) -> None:
    event = Envelope.new(
        payload,
        application_id=UUID(row["application_id"]),
        kecamatan=row["kecamatan"],
        causation_id=row["causation_id"],
    )
    await outbox.enqueue(conn, [Emit(topics.notification_events, event)])
    await status.record(conn, status.transitions(None, [event]))
