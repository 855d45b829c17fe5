"""Request and response models of the service quality API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.values import KecamatanCode, PhoneNumber
from services.runtime.auth import token_officer
from services.service_quality.ikm import Education, Occupation, Sex
from services.service_quality.rules import Category, ComplaintChannel
from services.service_quality.workflow import NewComplaint

Officer = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s<>]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$")
]
Score = Annotated[int, Field(ge=1, le=4)]
Ticket = Annotated[str, StringConstraints(pattern=r"^ADU-[0-9]{6}-[0-9]{8}-[0-9]{4,}$")]


class ComplaintFields(BaseModel):
    """What every channel's complaint says."""

    category: Category
    subject: Line
    body: Text
    name: Line | None = None
    email: Email | None = None
    phone: PhoneNumber | None = None  # an Indonesian mobile number: the outcome comes by SMS
    application_ref: Line | None = None

    def draft(
        self, kecamatan: str, channel: ComplaintChannel, received_at: datetime | None = None
    ) -> NewComplaint:
        return NewComplaint(
            kecamatan=kecamatan,
            channel=channel,
            received_at=received_at,
            **self.model_dump(include=set(ComplaintFields.model_fields)),
        )


class WebComplaint(ComplaintFields):
    """The public form. ``website`` is a honeypot: people leave it empty, form robots fill it."""

    model_config = ConfigDict(extra="forbid")

    kecamatan: KecamatanCode
    website: str = ""


class StaffComplaint(ComplaintFields):
    """A complaint taken by telephone or found in the suggestion box, keyed in by staff."""

    channel: ComplaintChannel = Field(description="telephone or suggestion_box")
    officer_id: Officer = token_officer()
    received_at: datetime | None = Field(
        default=None, description="suggestion box: when the note was dropped in (default: now)"
    )


class Acknowledge(BaseModel):
    officer_id: Officer = token_officer()
    note: Line | None = None


class FollowUp(BaseModel):
    officer_id: Officer = token_officer()
    outcome: Text


class TicketOut(BaseModel):
    ticket: str
    follow_up_due: datetime


class SurveyAnswer(BaseModel):
    """The regulation's form: respondent profile, then the nine elements U1..U9 (1-4)."""

    age: Annotated[int, Field(ge=17, le=120)]
    sex: Sex
    education: Education
    occupation: Occupation
    u1: Score
    u2: Score
    u3: Score
    u4: Score
    u5: Score
    u6: Score
    u7: Score
    u8: Score
    u9: Score
    suggestion: Annotated[str, StringConstraints(max_length=1000)] | None = None

    def scores(self) -> tuple[int, ...]:
        return (self.u1, self.u2, self.u3, self.u4, self.u5, self.u6, self.u7, self.u8, self.u9)
