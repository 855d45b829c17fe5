"""The section head's automatic checks: pure rules, no I/O.

Each rule takes the application (or part of it) and the supporting data it needs, and
returns findings (empty: nothing to report). :func:`evaluate` runs them all. The reference
date of every rule is the day the file was accepted (``applied_on``, in Indonesia), so a
file is judged as it stood at the desk, not as it stands when the section head gets to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from schemas.application import Applicant, ApplicationType, Documents
from schemas.base import Contract
from schemas.events import ApplicationAccepted
from schemas.requirements import ADULT_AGE
from schemas.residents import RegistryPerson
from schemas.values import InvalidValue, age_on, parse_kk_number, parse_nik

# ---------------------------------------------------------------- values


class Finding(Contract):
    """One problem an automatic check found: a stable code, the field concerned, and text
    for the section head in Bahasa Indonesia and English."""

    code: str
    field: str  # dotted path into the application, e.g. "applicant.kk_number"
    message_id: str
    message_en: str


# Application states after which no new revision is taken and the NIK is free again (or, for
# validated, the application has moved on down the pipeline).
CLOSED_STATES = frozenset({"validated", "rejected", "cancelled", "collected"})
# Of those, the states in which the application has ended here for good.
ENDED_STATES = CLOSED_STATES - {"validated"}


def _finding(code: str, field: str, message_id: str, message_en: str) -> Finding:
    return Finding(code=code, field=field, message_id=message_id, message_en=message_en)


# One check: whether it found the problem, then the finding's code, field and two texts.
Check = tuple[bool, str, str, str, str]


def _found(*checks: Check) -> list[Finding]:
    """The findings of the checks that hit, in order."""
    return [
        _finding(code, field, text_id, text_en)
        for hit, code, field, text_id, text_en in checks
        if hit
    ]


# ---------------------------------------------------------------- NIK and KK numbers


def check_numbers(nik: str, kk_number: str, *, kecamatan: str, applied_on: date) -> list[Finding]:
    """NIK and KK well formed; the KK issued within this kabupaten.

    The NIK keeps the region code of its first issue after its holder moves, so a NIK from
    another region is normal and not a finding. A KK is reissued where the family lives, so
    a KK from outside the kabupaten means the applicant is not a resident here.
    """
    found: list[Finding] = []
    try:
        parse_nik(nik, today=applied_on)
    except InvalidValue as e:
        found.append(_finding("nik_invalid", "applicant.nik", e.message_id, e.message_en))
    try:
        parse_kk_number(kk_number)
    except InvalidValue as e:
        found.append(_finding("kk_invalid", "applicant.kk_number", e.message_id, e.message_en))
    else:
        if kk_number[:4] != kecamatan[:4]:
            found.append(
                _finding(
                    "kk_outside_kabupaten",
                    "applicant.kk_number",
                    "Kartu Keluarga tidak diterbitkan di kabupaten ini; pemohon harus pindah "
                    "datang terlebih dahulu",
                    "the family card (KK) was not issued in this kabupaten; the applicant must "
                    "first register a move here",
                )
            )
    return found


def check_nik_biodata(applicant: Applicant, *, applied_on: date) -> list[Finding]:
    """The NIK encodes birth date and sex (day + 40 for women): they must match the data."""
    try:
        info = parse_nik(applicant.nik, today=applied_on)
    except InvalidValue:
        return []  # reported by check_numbers
    return _found(
        (
            info.birth_date != applicant.birth_date,
            "nik_birth_date_mismatch",
            "applicant.birth_date",
            "Tanggal lahir tidak sesuai dengan tanggal lahir dalam NIK",
            "the birth date does not match the birth date in the NIK",
        ),
        (
            info.sex != applicant.sex,
            "nik_sex_mismatch",
            "applicant.sex",
            "Jenis kelamin tidak sesuai dengan NIK",
            "the sex does not match the NIK",
        ),
    )


# ---------------------------------------------------------------- eligibility


def check_eligible(applicant: Applicant, *, applied_on: date) -> list[Finding]:
    """Perpres 96/2018 art. 15: 17 or older, or married / ever married."""
    if age_on(applicant.birth_date, applied_on) >= ADULT_AGE:
        return []
    if applicant.marital_status.ever_married:
        return []
    return [
        _finding(
            "not_eligible",
            "applicant.birth_date",
            f"Pemohon belum berumur {ADULT_AGE} tahun dan belum pernah kawin "
            "(Perpres 96/2018 pasal 15)",
            f"the applicant is under {ADULT_AGE} and has never been married "
            "(Perpres 96/2018 art. 15)",
        )
    ]


# ---------------------------------------------------------------- population registry


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


# The data entered that must match the registry: (field, name in Bahasa Indonesia, in English).
_REGISTRY_FIELDS = (
    ("name", "Nama", "name"),
    ("birth_date", "Tanggal lahir", "birth date"),
    ("sex", "Jenis kelamin", "sex"),
)


def check_registry(applicant: Applicant, resident: RegistryPerson | None) -> list[Finding]:
    """The applicant is in the population registry, a member of the stated KK, and the data
    entered matches the registry (internal control: data entry must match the records)."""
    if resident is None:
        return [
            _finding(
                "not_in_registry",
                "applicant.nik",
                "NIK tidak terdaftar dalam database kependudukan kabupaten",
                "the NIK is not in the district's population registry",
            )
        ]
    found = _found(
        (
            resident.kk_number != applicant.kk_number,
            "not_member_of_kk",
            "applicant.kk_number",
            "Pemohon bukan anggota Kartu Keluarga yang disebutkan",
            "the applicant is not a member of the stated family card (KK)",
        )
    )
    differs = {
        "name": not _same_name(resident.name, applicant.name),
        "birth_date": resident.birth_date != applicant.birth_date,
        "sex": resident.sex != applicant.sex,
    }
    found += [
        _finding(
            f"registry_{field}_mismatch",
            f"applicant.{field}",
            f"{label_id} tidak sesuai dengan database kependudukan",
            f"the {label_en} differs from the population registry",
        )
        for field, label_id, label_en in _REGISTRY_FIELDS
        if differs[field]
    ]
    return found


# ---------------------------------------------------------------- other applications


def check_no_other_active(other_active: Sequence[str]) -> list[Finding]:
    """No other application for the same NIK still in progress (tracking numbers given)."""
    if not other_active:
        return []
    numbers = ", ".join(sorted(other_active))
    return [
        _finding(
            "other_active_application",
            "applicant.nik",
            f"Masih ada permohonan lain yang aktif untuk NIK ini ({numbers})",
            f"another application for this NIK is still in progress ({numbers})",
        )
    ]


# ---------------------------------------------------------------- documents


def check_documents(
    kind: ApplicationType, documents: Documents, applicant: Applicant, *, applied_on: date
) -> list[Finding]:
    """Lost card: a police report dated no later than the application. Damaged card: the old
    card handed in (and, when its number is readable, the applicant's). Every type: the KK
    photocopy matches the stated KK number."""
    kk, report, card = documents.kk_photocopy, documents.police_report, documents.damaged_card
    lost, damaged = kind is ApplicationType.LOST, kind is ApplicationType.DAMAGED
    return _found(
        (
            kk is None,
            "kk_photocopy_missing",
            "documents.kk_photocopy",
            "Fotokopi Kartu Keluarga tidak ada",
            "the family card (KK) photocopy is missing",
        ),
        (
            kk is not None and kk.kk_number != applicant.kk_number,
            "kk_photocopy_mismatch",
            "documents.kk_photocopy.kk_number",
            "Nomor KK pada fotokopi tidak sesuai dengan data pemohon",
            "the KK number on the photocopy differs from the applicant's",
        ),
        (
            lost and report is None,
            "police_report_missing",
            "documents.police_report",
            "Surat keterangan kehilangan dari kepolisian tidak ada",
            "the police loss report is missing",
        ),
        (
            # Day granularity: a report from the same morning is before the application.
            lost and report is not None and report.issued_on > applied_on,
            "police_report_after_application",
            "documents.police_report.issued_on",
            "Surat keterangan kehilangan bertanggal setelah permohonan",
            "the police loss report is dated after the application",
        ),
        (
            damaged and card is None,
            "damaged_card_not_handed_in",
            "documents.damaged_card",
            "KTP-el yang rusak belum diserahkan",
            "the damaged card has not been handed in",
        ),
        (
            # An unreadable number (None) is no finding.
            damaged and card is not None and card.nik_on_card not in (None, applicant.nik),
            "damaged_card_nik_mismatch",
            "documents.damaged_card.nik_on_card",
            "NIK pada KTP-el rusak tidak sesuai dengan NIK pemohon",
            "the NIK on the damaged card differs from the applicant's",
        ),
    )


# ---------------------------------------------------------------- all of them


@dataclass(frozen=True)
class Evidence:
    """The supporting data the rules need beyond the application itself."""

    kecamatan: str  # the office the application belongs to
    applied_on: date  # when the file was accepted (date in Indonesia)
    resident: RegistryPerson | None  # the registry's record for the applicant's NIK
    other_active: tuple[str, ...] = ()  # tracking numbers of other active applications


def evaluate(accepted: ApplicationAccepted, evidence: Evidence) -> list[Finding]:
    """Every finding of every rule, in a stable order."""
    applicant = accepted.applicant
    on = evidence.applied_on
    return [
        *check_numbers(
            applicant.nik, applicant.kk_number, kecamatan=evidence.kecamatan, applied_on=on
        ),
        *check_nik_biodata(applicant, applied_on=on),
        *check_eligible(applicant, applied_on=on),
        *check_registry(applicant, evidence.resident),
        *check_no_other_active(evidence.other_active),
        *check_documents(accepted.application_type, accepted.documents, applicant, applied_on=on),
    ]
