"""The requirement matrix (persyaratan) and the desk check against it.

The front desk must refuse an incomplete or wrong file with the *exact* list of what is
missing or wrong, so :func:`check_application` reports every problem it can find in one go:
each part of the file (type, applicant, documents) is parsed on its own, and the rules run on
every part that parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from schemas.application import Applicant, ApplicationFile, ApplicationType, Documents
from schemas.base import Contract
from schemas.values import InvalidValue, age_on, parse_nik

_Part = TypeVar("_Part")

ADULT_AGE = 17  # Perpres 96/2018 art. 15: 17 years old, or married / ever married


class Requirement(StrEnum):
    KK_PHOTOCOPY = "kk_photocopy"
    POLICE_LOSS_REPORT = "police_loss_report"
    DAMAGED_CARD_HANDED_IN = "damaged_card_handed_in"
    AGE_17_OR_EVER_MARRIED = "age_17_or_ever_married"


REQUIREMENTS: Mapping[ApplicationType, tuple[Requirement, ...]] = MappingProxyType(
    {
        ApplicationType.NEW: (Requirement.AGE_17_OR_EVER_MARRIED, Requirement.KK_PHOTOCOPY),
        ApplicationType.LOST: (Requirement.POLICE_LOSS_REPORT, Requirement.KK_PHOTOCOPY),
        ApplicationType.DAMAGED: (Requirement.KK_PHOTOCOPY, Requirement.DAMAGED_CARD_HANDED_IN),
    }
)

# (Bahasa Indonesia, English) labels for checklists at the desk.
REQUIREMENT_LABELS: Mapping[Requirement, tuple[str, str]] = MappingProxyType(
    {
        Requirement.KK_PHOTOCOPY: ("Fotokopi Kartu Keluarga", "Photocopy of the family card (KK)"),
        Requirement.POLICE_LOSS_REPORT: (
            "Surat keterangan kehilangan dari kepolisian",
            "Police loss report",
        ),
        Requirement.DAMAGED_CARD_HANDED_IN: ("KTP-el yang rusak", "The damaged KTP-el card"),
        Requirement.AGE_17_OR_EVER_MARRIED: (
            "Berumur 17 tahun atau sudah/pernah kawin",
            "Aged 17 or older, or married / ever married",
        ),
    }
)

# Document requirements: the field of `Documents` that must be present.
_DOCUMENT_FIELD: Mapping[Requirement, str] = MappingProxyType(
    {
        Requirement.KK_PHOTOCOPY: "kk_photocopy",
        Requirement.POLICE_LOSS_REPORT: "police_report",
        Requirement.DAMAGED_CARD_HANDED_IN: "damaged_card",
    }
)


class Problem(Contract):
    """One missing or invalid item of a file."""

    code: str  # stable, machine-readable
    path: str  # dotted field path, e.g. "documents.police_report.issued_on"
    message_id: str  # Bahasa Indonesia
    message_en: str


def _missing(requirement: Requirement) -> Problem:
    label_id, label_en = REQUIREMENT_LABELS[requirement]
    return Problem(
        code=f"missing_{_DOCUMENT_FIELD[requirement]}",
        path=f"documents.{_DOCUMENT_FIELD[requirement]}",
        message_id=f"{label_id} belum diserahkan",
        message_en=f"{label_en} has not been handed in",
    )


def check_file(file: ApplicationFile, *, today: date) -> list[Problem]:
    """The rules of the matrix and the cross-checks for a file that parsed."""
    return _check_rules(file.application_type, file.applicant, file.documents, today)


def _check_rules(
    kind: ApplicationType | None,
    applicant: Applicant | None,
    documents: Documents | None,
    today: date,
) -> list[Problem]:
    problems: list[Problem] = []
    for requirement in REQUIREMENTS[kind] if kind is not None else ():
        field = _DOCUMENT_FIELD.get(requirement)
        if field is not None:
            if documents is not None and getattr(documents, field) is None:
                problems.append(_missing(requirement))
        elif applicant is not None and not _eligible(applicant, today):
            problems.append(
                Problem(
                    code="not_eligible",
                    path="applicant.birth_date",
                    message_id=f"Pemohon belum berumur {ADULT_AGE} tahun dan belum pernah kawin",
                    message_en=f"the applicant is under {ADULT_AGE} and has never been married",
                )
            )
    if applicant is not None:
        problems += _nik_matches_biodata(applicant, today)
    if applicant is not None and documents is not None:
        problems += _documents_match_applicant(applicant, documents)
    return problems


def _eligible(applicant: Applicant, today: date) -> bool:
    return age_on(applicant.birth_date, today) >= ADULT_AGE or applicant.marital_status.ever_married


def _nik_matches_biodata(applicant: Applicant, today: date) -> list[Problem]:
    """Data entry must match the documents: the NIK encodes birth date and sex."""
    info = parse_nik(applicant.nik, today=today)
    # (agrees, code, field, Bahasa Indonesia, English)
    checks = [
        (
            info.birth_date == applicant.birth_date,
            "nik_birth_date_mismatch",
            "birth_date",
            "Tanggal lahir tidak sesuai dengan NIK",
            "birth date does not match the NIK",
        ),
        (
            info.sex == applicant.sex,
            "nik_sex_mismatch",
            "sex",
            "Jenis kelamin tidak sesuai dengan NIK",
            "sex does not match the NIK",
        ),
    ]
    return [
        Problem(code=code, path=f"applicant.{field}", message_id=text_id, message_en=text_en)
        for agrees, code, field, text_id, text_en in checks
        if not agrees
    ]


def _documents_match_applicant(applicant: Applicant, documents: Documents) -> list[Problem]:
    problems = []
    kk = documents.kk_photocopy
    if kk is not None and kk.kk_number != applicant.kk_number:
        problems.append(
            Problem(
                code="kk_number_mismatch",
                path="documents.kk_photocopy.kk_number",
                message_id="Nomor KK pada fotokopi tidak sesuai dengan data pemohon",
                message_en="the KK number on the photocopy differs from the applicant's",
            )
        )
    card = documents.damaged_card
    if card is not None and card.nik_on_card is not None and card.nik_on_card != applicant.nik:
        problems.append(
            Problem(
                code="damaged_card_nik_mismatch",
                path="documents.damaged_card.nik_on_card",
                message_id="NIK pada KTP-el rusak tidak sesuai dengan NIK pemohon",
                message_en="the NIK on the damaged card differs from the applicant's",
            )
        )
    return problems


def check_application(raw: Mapping[str, Any], *, today: date) -> list[Problem]:
    """Every missing or invalid item of a file as entered at the desk (empty: complete).

    ``raw`` has the shape of :class:`ApplicationFile`. When the list is empty,
    ``ApplicationFile.model_validate(raw)`` succeeds. Each document is parsed on its own, so
    a wrong police report does not hide a missing KK photocopy.
    """
    problems: list[Problem] = []
    kind = _parse_part(raw, "application_type", _TYPE, problems)
    applicant = _parse_part(raw, "applicant", _APPLICANT, problems)
    documents, invalid = _parse_documents(raw.get("documents") or {}, problems)
    rule_problems = _check_rules(kind, applicant, documents, today)
    # A document that was handed in but is wrong is reported as wrong, not as missing.
    problems += [p for p in rule_problems if p.path not in invalid]
    return problems


_TYPE: TypeAdapter[ApplicationType] = TypeAdapter(ApplicationType)
_APPLICANT: TypeAdapter[Applicant] = TypeAdapter(Applicant)


def _parse_part(
    raw: Mapping[str, Any], key: str, adapter: TypeAdapter[_Part], problems: list[Problem]
) -> _Part | None:
    """One required part of the file, parsed on its own; what is wrong goes to ``problems``."""
    if key not in raw:
        problems.append(_required(key))
        return None
    try:
        return adapter.validate_python(raw[key])
    except ValidationError as e:
        problems.extend(problems_from(e, prefix=key))
        return None


def _parse_documents(raw: Any, problems: list[Problem]) -> tuple[Documents | None, set[str]]:
    if not isinstance(raw, Mapping):
        try:
            Documents.model_validate(raw)
        except ValidationError as e:
            problems += problems_from(e, prefix="documents")
        return None, set()
    present: dict[str, Any] = {}
    invalid: set[str] = set()
    for field in Documents.model_fields:
        if raw.get(field) is None:
            continue
        try:
            present[field] = getattr(Documents.model_validate({field: raw[field]}), field)
        except ValidationError as e:
            problems += problems_from(e, prefix="documents")
            invalid.add(f"documents.{field}")
    return Documents(**present), invalid


def _required(path: str) -> Problem:
    return Problem(code="missing", path=path, message_id="Wajib diisi", message_en="is required")


# Indonesian wording for pydantic's own error types; anything else falls back to a generic one.
_PYDANTIC_MESSAGES_ID: Mapping[str, str] = MappingProxyType(
    {
        "missing": "Wajib diisi",
        "enum": "Pilihan tidak dikenal",
        "string_type": "Harus berupa teks",
        "date_type": "Tanggal tidak valid",
        "date_parsing": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
        "date_from_datetime_parsing": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
        "model_type": "Harus berupa objek",
        "dict_type": "Harus berupa objek",
    }
)


def problems_from(error: ValidationError, *, prefix: str = "") -> list[Problem]:
    """Turn pydantic errors into problems, keeping our own codes and Indonesian messages."""
    problems = []
    for err in error.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidValue):
            problems.append(
                Problem(
                    code=cause.code,
                    path=path,
                    message_id=cause.message_id,
                    message_en=cause.message_en,
                )
            )
        elif err["type"] == "missing":
            problems.append(_required(path))
        else:
            message_id = _PYDANTIC_MESSAGES_ID.get(err["type"], "Isian tidak valid")
            problems.append(
                Problem(code=err["type"], path=path, message_id=message_id, message_en=err["msg"])
            )
    return problems
