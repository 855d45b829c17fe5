"""Pure rules of the notification stage: which SMS an event asks for, the reminder schedule
for uncollected cards, and how a call outcome moves it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationSentBack,
    CertificateIssued,
    ComplaintAnswered,
    SurveyInvited,
)
from schemas.workdays import OfficeHours, WorkingCalendar
from services.notification.settings import NotificationSettings, ReminderChannel, ReminderSchedule
from services.notification.sms.templates import Template, fields, render

_CALENDARS: dict[str, WorkingCalendar] = {}


def calendar(hours: OfficeHours) -> WorkingCalendar:
    """One working calendar per distinct office-hours configuration (holiday tables are big)."""
    key = hours.model_dump_json()
    found = _CALENDARS.get(key)
    if found is None:
        found = _CALENDARS[key] = WorkingCalendar(hours)
    return found


# ---------------------------------------------------------------- SMS per event

# Event type -> the template it asks for (card.ready_for_collection also starts reminders).
EVENT_TEMPLATES: dict[str, Template] = {
    "application.accepted": Template.FILE_ACCEPTED,
    "application.sent_back": Template.SENT_BACK,
    "card.ready_for_collection": Template.CARD_READY,
    "certificate.issued": Template.TEMPORARY_CERTIFICATE,
    "survey.invited": Template.IKM_SURVEY,  # the one-time link service_quality made
    "complaint.answered": Template.COMPLAINT_OUTCOME,  # a complainant without e-mail
}

# Events after which no reminder is due any more.
STOPPING_EVENTS = frozenset(
    {
        "card.collected",
        "application.cancelled",
        "application.rejected",
        "biometrics.duplicate_confirmed",
    }
)


def format_moment(moment: datetime, hours: OfficeHours) -> str:
    local = moment.astimezone(hours.zone)
    return f"{local:%d-%m-%Y %H.%M} {local.tzname()}"


def format_day(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def event_fields(event: Envelope, hours: OfficeHours) -> dict[str, str]:
    """The event-specific template fields; office, name and tracking number come at send time."""
    p = event.payload
    if isinstance(p, ApplicationAccepted):
        return {"deadline": format_moment(p.deadline, hours)}
    if isinstance(p, ApplicationSentBack):
        return {"what_to_fix": "; ".join(r.note for r in p.reasons)}
    if isinstance(p, CertificateIssued):
        return {"valid_until": format_day(p.valid_until)}
    if isinstance(p, SurveyInvited):
        return {"survey_url": p.survey_url}
    if isinstance(p, ComplaintAnswered):
        return {"outcome": p.outcome}
    return {}


def sms_text(
    settings: NotificationSettings,
    template: Template,
    kecamatan: str,
    contact: dict[str, Any],
    extra: dict[str, str],
) -> str:
    """The text of one SMS: office and applicant data filled in at send time."""
    office = settings.office(kecamatan)
    data = {
        "name": contact["name"] or "Bapak/Ibu",
        "tracking_number": contact["tracking_number"] or "-",
        "office": office.name,
        "office_hours": office.display_hours(),
        "survey_url": office.survey_url,
        **extra,
    }
    return render(template, settings.language, {k: data[k] for k in fields(template) if k in data})


# ---------------------------------------------------------------- reminder schedule


def step_offset(schedule: ReminderSchedule, step: int) -> tuple[int, ReminderChannel]:
    """Working days after readiness of reminder ``step`` (0-based), and its channel."""
    if step < len(schedule.steps):
        s = schedule.steps[step]
        return s.after_working_days, s.channel
    last = schedule.steps[-1].after_working_days if schedule.steps else 0
    extra = step - len(schedule.steps) + 1
    return last + extra * schedule.repeat_every_working_days, schedule.repeat_channel


def step_due(
    schedule: ReminderSchedule, hours: OfficeHours, ready_at: datetime, step: int
) -> tuple[datetime, ReminderChannel]:
    """When step ``step`` falls due: that many working days after readiness (office time)."""
    days, channel = step_offset(schedule, step)
    return calendar(hours).deadline(ready_at, days), channel


@dataclass(frozen=True)
class Next:
    step: int  # the next regular step
    due: datetime
    channel: ReminderChannel
    override: bool = False  # a one-off contact set by a call outcome


def next_regular(
    schedule: ReminderSchedule, hours: OfficeHours, ready_at: datetime, step: int, now: datetime
) -> Next:
    """The first regular step at or after ``step`` that is still in the future: reminders
    missed while the service was down are not fired in a burst."""
    while True:
        due, channel = step_due(schedule, hours, ready_at, step)
        if due > now:
            return Next(step, due, channel)
        step += 1


def opening_of(hours: OfficeHours, day: date) -> datetime:
    return datetime.combine(day, hours.weekly[day.isoweekday()][0], tzinfo=hours.zone)


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    WILL_COME_ON = "will_come_on"


def after_outcome(
    outcome: Outcome,
    *,
    schedule: ReminderSchedule,
    hours: OfficeHours,
    ready_at: datetime,
    step: int,
    now: datetime,
    come_on: date | None = None,
) -> Next | None:
    """The next contact after a call outcome; ``None``: no more calls (wrong number)."""
    cal = calendar(hours)
    today = now.astimezone(hours.zone).date()
    if outcome is Outcome.WRONG_NUMBER:
        return None
    if outcome is Outcome.NO_ANSWER:
        day = cal.add_working_days(today, 1)
        return Next(step, opening_of(hours, day), ReminderChannel.PHONE_CALL, override=True)
    if outcome is Outcome.WILL_COME_ON:
        if come_on is None:
            raise ValueError("will_come_on needs a date")
        day = cal.add_working_days(max(come_on, today), 1)
        return Next(step, opening_of(hours, day), ReminderChannel.PHONE_CALL, override=True)
    return next_regular(schedule, hours, ready_at, step, now)
