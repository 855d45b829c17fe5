"""Values of the validation stage: findings and population-registry records (no I/O)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from schemas.application import (
    Address,
    Applicant,
    BloodType,
    Citizenship,
    MaritalStatus,
    Religion,
)
from schemas.base import Contract
from schemas.values import (
    BirthDate,
    KkNumber,
    Nik,
    PersonName,
    Sex,
    ShortText,
)


class Finding(Contract):
    """One problem an automatic check found: a stable code, the field concerned, and text
    for the section head in Bahasa Indonesia and English."""

    code: str
    field: str  # dotted path into the application, e.g. "applicant.kk_number"
    message_id: str
    message_en: str


class FamilyRole(StrEnum):
    """Status hubungan dalam keluarga, as on the Kartu Keluarga."""

    KEPALA_KELUARGA = "kepala_keluarga"
    ISTRI = "istri"
    SUAMI = "suami"
    ANAK = "anak"
    ORANG_TUA = "orang_tua"
    FAMILI_LAIN = "famili_lain"


class RegistryPerson(Contract):
    """One resident in the district's population registry (the SIAK extract)."""

    nik: Nik
    kk_number: KkNumber
    family_role: FamilyRole
    name: PersonName
    birth_place: ShortText
    birth_date: BirthDate
    sex: Sex
    blood_type: BloodType = BloodType.UNKNOWN
    religion: Religion
    marital_status: MaritalStatus
    occupation: ShortText
    citizenship: Citizenship = Citizenship.WNI
    address: Address

    def applicant(self, *, phone: str | None = None) -> Applicant:
        """The applicant this resident is at the desk (the demo creates applicants so)."""
        data: dict[str, Any] = self.model_dump(exclude={"family_role"})
        return Applicant.model_validate({**data, "phone": phone})

    # ------------------------------------------------------------ flat (CSV) form

    def flat(self) -> dict[str, str]:
        """One CSV row (see :data:`CSV_COLUMNS`)."""
        data = self.model_dump(mode="json", exclude={"address"})
        address = self.address.model_dump(mode="json")
        row = {**data, **{f"address_{k}": v for k, v in address.items()}}
        return {column: str(row[column]) for column in CSV_COLUMNS}

    @classmethod
    def from_flat(cls, row: dict[str, Any]) -> RegistryPerson:
        address = {
            k.removeprefix("address_"): v for k, v in row.items() if k.startswith("address_")
        }
        rest = {
            k: v for k, v in row.items() if not k.startswith("address_") and v not in ("", None)
        }
        return cls.model_validate({**rest, "address": address})


CSV_COLUMNS = (
    "nik",
    "kk_number",
    "family_role",
    "name",
    "birth_place",
    "birth_date",
    "sex",
    "blood_type",
    "religion",
    "marital_status",
    "occupation",
    "citizenship",
    "address_street",
    "address_rt",
    "address_rw",
    "address_desa_code",
    "address_desa_name",
)
