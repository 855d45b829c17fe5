"""What the recording operator's, card operator's and caller's screens read from the stages
(biometric, the office's card station, notification): small models keeping only what a screen
shows (``extra="ignore"``: a stage may add fields freely)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ToRecord(_Answer):
    """One applicant in the recording queue."""

    application_id: UUID
    tracking_number: str
    application_type: str
    name: str
    nik_masked: str
    received_at: str


class Devices(_Answer):
    """The office's capture devices as their device service reports them."""

    station: str
    status: str
    devices: dict[str, str]


class Recorded(_Answer):
    """A capture the stage kept: captures taken per item, and the items excepted."""

    application_id: UUID
    record_id: UUID
    state: str
    fingerprints_captured: int
    exceptions: list[dict[str, Any]]
    attempts: dict[str, int]


class Case(_Answer):
    """A suspected duplicate: the new record and the earlier ones the ABIS found."""

    case_id: str
    application_id: UUID
    tracking_number: str
    name: str
    nik_masked: str
    record_id: UUID
    candidates: list[dict[str, Any]]
    opened_at: str


class PrintJob(_Answer):
    application_id: UUID
    tracking_number: str
    application_type: str
    state: str
    blank_serial: str | None = None
    storage_place: str | None = None
    held: bool = False
    last_error: str | None = None
    certificate_number: str | None = None
    activation_failures: int = 0
    updated_at: str


class Activated(_Answer):
    matched: bool
    score: float
    failures: int
    escalated: bool


class CallTask(_Answer):
    """An uncollected card to call about, with the history of earlier contacts."""

    id: int
    application_id: str
    name: str | None
    tracking_number: str | None
    storage_place: str | None
    ready_at: str | None
    due_at: str
    phone: str
    history: list[dict[str, Any]]


class CallRecorded(_Answer):
    call_id: int
    outcome: str
    next_contact: str | None
    next_channel: str | None


class Sms(_Answer):
    id: int
    application_id: str
    template: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
