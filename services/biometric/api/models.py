"""Request and response bodies of the biometric stage's HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.events import StaffId
from schemas.values import RegionLevel, parse_region_code
from services.biometric.items import Finger
from services.biometric.rules import Decision
from services.runtime.auth import Identity, own_office, token_officer

KecamatanQuery = Annotated[
    str, Query(description="kecamatan code, e.g. 350805 or 35.08.05", examples=["350805"])
]


def kecamatan_code(value: str) -> str:
    """The kecamatan query parameter, normalised; a 422 naming it if it is not one."""
    try:
        return parse_region_code(value, RegionLevel.KECAMATAN)
    except ValueError as error:
        raise HTTPException(
            422,
            [{"loc": ["query", "kecamatan"], "msg": str(error), "type": "value_error"}],
        ) from None


def own_kecamatan(caller: Identity, value: str) -> str:
    """The kecamatan query parameter, normalised, if the caller may see it (else 403)."""
    code = kecamatan_code(value)
    own_office(caller, code)
    return code


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaptureBody(_Body):
    operator_id: StaffId = token_officer()
    missing_fingers: dict[Finger, Literal["amputated", "bandaged"]] = Field(
        default_factory=dict,
        description="fingers the operator sees missing or injured: recorded as exceptions",
    )


class CaptureResult(BaseModel):
    application_id: uuid.UUID
    record_id: uuid.UUID
    state: str  # dedupe_pending: the ABIS's answer opens a case or releases it for printing
    fingerprints_captured: int
    exceptions: list[dict[str, Any]]
    attempts: dict[str, int]


class QueueItem(BaseModel):
    application_id: uuid.UUID
    tracking_number: str
    application_type: str
    name: str
    nik_masked: str
    received_at: datetime


class DecisionBody(_Body):
    decision: Decision
    officer_id: StaffId = token_officer()
    note: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class CaseItem(BaseModel):
    case_id: str
    application_id: uuid.UUID
    tracking_number: str
    name: str
    nik_masked: str
    record_id: uuid.UUID
    candidates: list[dict[str, Any]]
    opened_at: datetime


class Template(BaseModel):
    finger: Finger
    format: str = Field(description="template format (TOF1: the stand-in orientation field)")
    template: str = Field(description="base64")


class CardData(BaseModel):
    """What the card station needs from one record; the sha256 values are of the stored
    ciphertext, as in the print-ready event's claim checks."""

    record_id: uuid.UUID
    kecamatan: str
    photo: str = Field(description="base64")
    photo_media_type: str
    photo_sha256: str
    signature: str = Field(description="base64")
    signature_media_type: str
    signature_sha256: str
    fingerprint_templates: list[Template] = Field(description="the chip's two, in chip order")
    fingerprint_templates_sha256: str
