"""Pure complaint rules: channels, categories, ticket numbers and the working-day deadlines.

Deadlines follow SP4N-LAPOR! (Perpres 76/2013, PermenPAN-RB 46/2020): the agency acknowledges
a complaint and follows it up within 5 working days of receipt; the numbers are settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from schemas.workdays import WorkingCalendar


class ComplaintChannel(StrEnum):
    """The four channels the service standard promises."""

    SUGGESTION_BOX = "suggestion_box"
    WEBSITE = "website"
    TELEPHONE = "telephone"
    EMAIL = "email"


STAFF_CHANNELS = frozenset({ComplaintChannel.SUGGESTION_BOX, ComplaintChannel.TELEPHONE})


class Category(StrEnum):
    REQUIREMENTS = "requirements"  # persyaratan
    PROCEDURE = "procedure"  # prosedur
    TIME = "time"  # waktu penyelesaian
    COST = "cost"  # pungutan (the service is free)
    PRODUCT = "product"  # the card itself, data errors
    STAFF = "staff"  # petugas
    FACILITIES = "facilities"  # sarana dan prasarana
    OTHER = "other"


class Status(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: datetime
    follow_up_by: datetime


def deadlines(
    calendar: WorkingCalendar, received_at: datetime, ack_days: int, follow_up_days: int
) -> Deadlines:
    """Working days counted in office time from receipt (a complaint received after hours or on
    a day off counts from the next opening, as the service clock does)."""
    return Deadlines(
        calendar.deadline(received_at, ack_days), calendar.deadline(received_at, follow_up_days)
    )


def ticket_number(kecamatan: str, received_at: datetime, serial: int) -> str:
    """``ADU-350805-20250106-0007``: office, day of receipt, a district-wide serial."""
    return f"ADU-{kecamatan}-{received_at:%Y%m%d}-{serial:04d}"


def is_overdue(status: Status, follow_up_by: datetime, now: datetime) -> bool:
    return status is not Status.CLOSED and now >= follow_up_by
