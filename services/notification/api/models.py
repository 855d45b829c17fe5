"""Request and response models of the notification API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field, model_validator

from services.notification.rules import Outcome
from services.notification.settings import ReminderChannel, ReminderSchedule

SmsStatus = Literal["pending", "sent", "failed", "skipped", "cancelled"]
AppId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


class OutcomeIn(BaseModel):
    outcome: Outcome
    come_on: date | None = Field(default=None, description="required for will_come_on")
    officer_id: str | None = Field(default=None, description="Ignored: the caller of the token")
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _date_for_will_come_on(self) -> OutcomeIn:
        if self.outcome is Outcome.WILL_COME_ON and self.come_on is None:
            raise ValueError("come_on is required when outcome is will_come_on")
        return self


class OutcomeOut(BaseModel):
    call_id: int
    outcome: Outcome
    next_contact: datetime | None
    next_channel: ReminderChannel | None


class DeskEntry(BaseModel):
    """An uncollected card whose applicant has no phone number: the office must reach them
    another way (a letter, the RT/RW, a visit)."""

    id: int
    application_id: str
    kecamatan: str
    name: str | None
    tracking_number: str | None
    storage_place: str | None
    ready_at: datetime | None
    due_at: datetime
    history: list[dict[str, Any]]


class Call(DeskEntry):
    """An uncollected card to call about."""

    phone: str


class OpenReminder(BaseModel):
    application_id: str
    kecamatan: str
    ready_at: datetime
    step: int
    next_due: datetime
    next_channel: ReminderChannel
    override: bool


class ScheduleOut(BaseModel):
    schedule: ReminderSchedule
    reminders: list[OpenReminder]
