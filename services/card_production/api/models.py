"""Request bodies and answers of the station's API."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, model_validator

from schemas.events import SpoilReason, StaffId
from services.runtime.auth import token_officer

Serial = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")]
Pin = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class BatchIn(BaseModel):
    batch_ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,64}$")]
    first_serial: Serial
    last_serial: Serial
    received_by: StaffId = token_officer()


class SpoilIn(BaseModel):
    reason: SpoilReason
    note: Annotated[str, StringConstraints(max_length=180)] | None = None


class CertificateIn(BaseModel):
    officer_id: StaffId = token_officer()


class ActivateIn(BaseModel):
    """The applicant's live fingerprint: a captured image (base64), or for the simulated
    capture device, the seed of a simulated finger."""

    officer_id: StaffId = token_officer()
    pin: Pin  # the PIN the holder chooses
    fingerprint_image_b64: str | None = None
    simulated_finger_seed: (
        Annotated[str, StringConstraints(min_length=1, max_length=200)] | None
    ) = None

    @model_validator(mode="after")
    def _one_capture(self) -> ActivateIn:
        if (self.fingerprint_image_b64 is None) == (self.simulated_finger_seed is None):
            raise ValueError("give exactly one of fingerprint_image_b64, simulated_finger_seed")
        return self


def job_view(row: Any) -> dict[str, Any]:
    """A print job as the API shows it; ``held`` with ``last_error`` says why it stopped."""
    out = {
        k: row[k]
        for k in (
            "tracking_number", "application_type", "priority", "state", "blank_serial",
            "chip_serial", "print_job", "storage_place", "attempts", "errors", "held",
            "activation_failures", "certificate_number", "last_error",
        )
    }  # fmt: skip
    out["application_id"] = str(row["application_id"])
    out["kecamatan"] = row["kecamatan"]
    out["updated_at"] = row["updated_at"].isoformat()
    return out
