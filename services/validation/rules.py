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
from schemas.events import ApplicationAccepted
from schemas.requirements import ADULT_AGE
from schemas.values import InvalidValue, age_on, parse_kk_number, parse_nik
from services.validation.models import Finding, RegistryPerson


def _finding(code: str, field: str, message_id: str, message_en: str) -> Finding:
    return Finding(code=code, field=field, message_id=message_id, message_en=message_en)


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
    found: list[Finding] = []
    if info.birth_date != applicant.birth_date:
        found.append(
            _finding(
                "nik_birth_date_mismatch",
                "applicant.birth_date",
                "Tanggal lahir tidak sesuai dengan tanggal lahir dalam NIK",
                "the birth date does not match the birth date in the NIK",
            )
        )
    if info.sex != applicant.sex:
        found.append(
            _finding(
                "nik_sex_mismatch",
                "applicant.sex",
                "Jenis kelamin tidak sesuai dengan NIK",
                "the sex does not match the NIK",
            )
        )
    return found


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
    found: list[Finding] = []
    if resident.kk_number != applicant.kk_number:
        found.append(
            _finding(
                "not_member_of_kk",
                "applicant.kk_number",
                "Pemohon bukan anggota Kartu Keluarga yang disebutkan",
                "the applicant is not a member of the stated family card (KK)",
            )
        )
    if not _same_name(resident.name, applicant.name):
        found.append(
            _finding(
                "registry_name_mismatch",
                "applicant.name",
                "Nama tidak sesuai dengan database kependudukan",
                "the name differs from the population registry",
            )
        )
    if resident.birth_date != applicant.birth_date:
        found.append(
            _finding(
                "registry_birth_date_mismatch",
                "applicant.birth_date",
                "Tanggal lahir tidak sesuai dengan database kependudukan",
                "the birth date differs from the population registry",
            )
        )
    if resident.sex != applicant.sex:
        found.append(
            _finding(
                "registry_sex_mismatch",
                "applicant.sex",
                "Jenis kelamin tidak sesuai dengan database kependudukan",
                "the sex differs from the population registry",
            )
        )
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
    found: list[Finding] = []
    if documents.kk_photocopy is None:
        found.append(
            _finding(
                "kk_photocopy_missing",
                "documents.kk_photocopy",
                "Fotokopi Kartu Keluarga tidak ada",
                "the family card (KK) photocopy is missing",
            )
        )
    elif documents.kk_photocopy.kk_number != applicant.kk_number:
        found.append(
            _finding(
                "kk_photocopy_mismatch",
                "documents.kk_photocopy.kk_number",
                "Nomor KK pada fotokopi tidak sesuai dengan data pemohon",
                "the KK number on the photocopy differs from the applicant's",
            )
        )
    if kind is ApplicationType.LOST:
        report = documents.police_report
        if report is None:
            found.append(
                _finding(
                    "police_report_missing",
                    "documents.police_report",
                    "Surat keterangan kehilangan dari kepolisian tidak ada",
                    "the police loss report is missing",
                )
            )
        elif report.issued_on > applied_on:
            # Day granularity: a report from the same morning is before the application.
            found.append(
                _finding(
                    "police_report_after_application",
                    "documents.police_report.issued_on",
                    "Surat keterangan kehilangan bertanggal setelah permohonan",
                    "the police loss report is dated after the application",
                )
            )
    if kind is ApplicationType.DAMAGED:
        card = documents.damaged_card
        if card is None:
            found.append(
                _finding(
                    "damaged_card_not_handed_in",
                    "documents.damaged_card",
                    "KTP-el yang rusak belum diserahkan",
                    "the damaged card has not been handed in",
                )
            )
        elif card.nik_on_card is not None and card.nik_on_card != applicant.nik:
            found.append(
                _finding(
                    "damaged_card_nik_mismatch",
                    "documents.damaged_card.nik_on_card",
                    "NIK pada KTP-el rusak tidak sesuai dengan NIK pemohon",
                    "the NIK on the damaged card differs from the applicant's",
                )
            )
    return found


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
