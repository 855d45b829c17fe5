"""Applicants for the console's tests: what a desk officer types, and files sent by API."""

from __future__ import annotations

import base64
from typing import Any

from schemas.samples import APPLICANT

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# The desk form's fields (input ids) as a desk officer fills them for a KTP-el baru.
TYPED = {
    "f-applicant-nik": APPLICANT.nik,
    "f-applicant-name": APPLICANT.name,
    "f-applicant-birth_place": APPLICANT.birth_place,
    "f-applicant-occupation": APPLICANT.occupation,
    "f-applicant-kk_number": APPLICANT.kk_number,
    "f-applicant-phone": "081234567890",
    "f-applicant-address-street": APPLICANT.address.street,
    "f-applicant-address-rt": APPLICANT.address.rt,
    "f-applicant-address-rw": APPLICANT.address.rw,
    "f-applicant-address-desa_code": APPLICANT.address.desa_code,
    "f-applicant-address-desa_name": APPLICANT.address.desa_name,
    "f-documents-kk_photocopy-kk_number": APPLICANT.kk_number,
}
# Selects: the option's visible text is typed to choose it (keyboard only).
CHOSEN = {
    "f-applicant-sex": "Perempuan",
    "f-applicant-religion": "Islam",
    "f-applicant-marital_status": "Kawin",
}
BIRTH_DATE = APPLICANT.birth_date


def file_for(kecamatan: str, nik: str, name: str, **applicant: Any) -> dict[str, Any]:
    """A complete KTP-el baru file, as a stage client sends it (the KK scan inline)."""
    office = kecamatan
    person = APPLICANT.model_dump(mode="json") | {
        "nik": nik,
        "name": name,
        "kk_number": office + "0101100003",
        "address": {**APPLICANT.address.model_dump(mode="json"), "desa_code": office + "2001"},
        **applicant,
    }
    return {
        "kecamatan": kecamatan,
        "application_type": "new",
        "applicant": person,
        "documents": {"kk_photocopy": {"kk_number": person["kk_number"]}},
        "kk_scan": {
            "content_base64": base64.b64encode(PDF).decode(),
            "content_type": "application/pdf",
        },
    }
