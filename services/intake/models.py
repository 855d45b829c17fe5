"""The desk's command and answer models: the request bodies the workflow takes and the answers
it gives, shared by `api/` (their OpenAPI schemas) and `workflow`."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import Header, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.application import Applicant, ApplicationFile, ApplicationType, Documents
from schemas.events import StaffId
from schemas.values import KecamatanCode, Nik, ShortText
from services.intake import rules
from services.runtime.auth import token_officer

if TYPE_CHECKING:
    from services.intake.store import Application

# The Idempotency-Key header: printable ASCII, no spaces.
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)]
KecamatanQuery = Annotated[str, Query(description="The office (kecamatan code)")]
NOT_FOUND = (404, "no such application")


def responses(*described: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` from (status, description) pairs."""
    return {status: {"description": text} for status, text in described}


class ScanInput(BaseModel):
    """A document scan: a reference from ``POST /uploads``, or the file inline in base64."""

    model_config = ConfigDict(extra="forbid")

    upload_id: UUID | None = None
    content_base64: str | None = Field(default=None, description="PDF/JPEG/PNG, at most 5 MB")
    content_type: Literal["application/pdf", "image/jpeg", "image/png"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.upload_id is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of upload_id and content_base64")
        return self


class FileInput(BaseModel):
    """The application file as entered at the desk (schemas.application.ApplicationFile)."""

    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId = token_officer()
    application_type: ApplicationType
    applicant: Applicant
    documents: Documents | None = None
    kk_scan: ScanInput | None = Field(
        default=None, description="The scan of the KK photocopy (required with the photocopy)"
    )

    def application_file(self) -> ApplicationFile:
        return ApplicationFile(
            application_type=self.application_type,
            applicant=self.applicant,
            documents=self.documents or Documents(),
        )


class SubmitApplication(FileInput):
    kecamatan: KecamatanCode = Field(description="The office (kecamatan code, e.g. 350805)")


class ResubmitApplication(FileInput):
    """The corrected file; without ``kk_scan`` the scan handed in before is kept."""


class Requirement(BaseModel):
    code: str
    label_id: str
    label_en: str


class Receipt(BaseModel):
    """Tanda terima: what the applicant takes home."""

    application_id: UUID
    tracking_number: str
    revision: int
    kecamatan: str
    office_name: str
    application_type: ApplicationType
    received_at: datetime
    revised_at: datetime
    deadline: datetime
    checklist: list[Requirement]
    status_path: str
    message_id: str
    message_en: str

    @classmethod
    def of(cls, app: Application, office_name: str, zone: tzinfo) -> Self:
        """The receipt of an accepted application, its times in the office's zone."""
        kind = ApplicationType(app.application_type)
        return cls(
            application_id=app.id,
            tracking_number=app.tracking_number,
            revision=app.revision,
            kecamatan=app.kecamatan,
            office_name=office_name,
            application_type=kind,
            received_at=app.accepted_at.astimezone(zone),
            revised_at=app.revised_at.astimezone(zone),
            deadline=app.deadline.astimezone(zone),
            checklist=[Requirement(**r) for r in rules.checklist(kind)],
            status_path=f"/status/{app.tracking_number}",
            message_id="Berkas diterima lengkap. Simpan tanda terima ini untuk mengambil KTP-el.",
            message_en="The file is complete. Keep this receipt to collect the KTP-el.",
        )


class SentBackItem(BaseModel):
    application_id: UUID
    tracking_number: str
    revision: int
    application_type: str
    applicant_name: str
    sent_back_at: datetime | None
    reasons: list[dict[str, Any]]
    file: dict[str, Any]


class HandoverItem(BaseModel):
    application_id: UUID
    tracking_number: str
    applicant_name: str
    state: str
    state_label: str
    activated: bool
    storage_place: str | None
    ready_at: datetime | None
    activated_at: datetime | None


class SignedReceipt(BaseModel):
    """The receipt the applicant signed: a signature image (upload, base64) or a scan reference."""

    model_config = ConfigDict(extra="forbid")

    upload_id: UUID | None = None
    image_base64: str | None = None
    content_type: Literal["application/pdf", "image/jpeg", "image/png"] | None = None
    scan_reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9._/:-]{1,100}$")] | None = None


class HandoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId = token_officer()
    presented_nik: Nik = Field(description="The NIK on the identity the collector presents")
    signed_receipt: SignedReceipt | None = None


class StoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId = token_officer()
    storage_place: ShortText | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId = token_officer()
    reason: ShortText


class HandoverResult(BaseModel):
    application_id: UUID
    tracking_number: str
    state: str
    collected_at: datetime | None
    receipt_reference: str | None


class Office(BaseModel):
    kecamatan: str
    name: str


class PublicStatus(BaseModel):
    """What anyone with the tracking number may see: no NIK, no name."""

    tracking_number: str
    state: str
    state_label: str
    office: Office
    received_at: datetime
    revised_at: datetime
    deadline: datetime
    updated_at: datetime
    ready_since: datetime | None
    collected_at: datetime | None


class UploadRef(BaseModel):
    upload_id: UUID
    kind: str
    content_type: str
    size: int
    sha256: str
