"""The resident extract: the district population registry's (SIAK) file of residents, which the
validation stage imports (``python -m services.validation.registry import FILE``) and the
registry simulator writes (``python -m simulators.registry generate``).

The file is CSV (:data:`CSV_COLUMNS`, header first; ``address_*`` columns form the address,
empty cells are absent) or JSON (an array of :class:`RegistryPerson` objects), by suffix.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from schemas.application import Applicant, CardFace
from schemas.values import KkNumber


class FamilyRole(StrEnum):
    """Status hubungan dalam keluarga, as on the Kartu Keluarga."""

    KEPALA_KELUARGA = "kepala_keluarga"
    ISTRI = "istri"
    SUAMI = "suami"
    ANAK = "anak"
    ORANG_TUA = "orang_tua"
    FAMILI_LAIN = "famili_lain"


class RegistryPerson(CardFace):
    """One resident as the extract lists them: card biodata, KK number and family role."""

    kk_number: KkNumber
    family_role: FamilyRole

    def applicant(self, *, phone: str | None = None) -> Applicant:
        """The applicant this resident is at the desk."""
        data: dict[str, Any] = self.model_dump(exclude={"family_role"})
        return Applicant.model_validate({**data, "phone": phone})

    def flat(self) -> dict[str, str]:
        """One CSV row (see :data:`CSV_COLUMNS`)."""
        data = self.model_dump(mode="json", exclude={"address"})
        address = self.address.model_dump(mode="json")
        row = {**data, **{f"address_{k}": v for k, v in address.items()}}
        return {column: str(row[column]) for column in CSV_COLUMNS}

    @classmethod
    def from_flat(cls, row: dict[str, Any]) -> RegistryPerson:
        """From a CSV row: ``address_*`` columns form the address; empty cells are absent."""
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
