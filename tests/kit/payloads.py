"""Payloads and events the tests of several stages build: NIKs, phone numbers, envelopes,
the ``application.accepted`` intake publishes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from schemas.application import Applicant, ApplicationType, Documents, KkPhotocopy
from schemas.envelope import Envelope
from schemas.events import ApplicationAccepted, EventPayload
from schemas.samples import TEMPEH


def nik(serial: int, kecamatan: str = TEMPEH) -> str:
    """A valid NIK: a woman born 1 July 1985 (41 = 1 + 40), this serial."""
    return f"{kecamatan}410785{serial:04d}"


def phone() -> str:
    """A mobile number of its own for each call (E.164)."""
    return f"+62812{random.randrange(10**7):07d}"


def envelope(
    payload: EventPayload,
    application_id: UUID | str | None = None,
    kecamatan: str = TEMPEH,
    *,
    causation_id: UUID | None = None,
    occurred_at: datetime | None = None,
    message_id: UUID | None = None,
) -> Envelope:
    """``payload`` as its stage publishes it, for this (or a new) application."""
    return Envelope.new(
        payload,
        application_id=UUID(str(application_id)) if application_id else uuid4(),
        kecamatan=kecamatan,
        causation_id=causation_id,
        occurred_at=occurred_at,
        message_id=message_id,
    )


def accepted(
    applicant: Applicant,
    application_id: UUID | None = None,
    *,
    revision: int = 1,
    tracking: str = "TPH-TEST-0001",
    kecamatan: str = TEMPEH,
    causation_id: UUID | None = None,
) -> Envelope:
    """The ``application.accepted`` intake publishes for a new card, the KK photocopy in."""
    payload = ApplicationAccepted(
        tracking_number=tracking,
        revision=revision,
        application_type=ApplicationType.NEW,
        applicant=applicant,
        documents=Documents(kk_photocopy=KkPhotocopy(kk_number=applicant.kk_number)),
        deadline=datetime.now(UTC) + timedelta(days=1),
        officer_id="petugas.tempeh.01",
    )
    return envelope(payload, application_id, kecamatan, causation_id=causation_id)
