from datetime import date
from typing import Any

import pytest

from schemas.application import ApplicationFile, ApplicationType
from schemas.requirements import (
    REQUIREMENT_LABELS,
    REQUIREMENTS,
    Requirement,
    check_application,
    check_file,
)
from schemas.samples import APPLICANT

TODAY = date(2025, 3, 10)
KK = {"kk_number": "3508050101100003"}
POLICE = {
    "number": "SKTLK/12/I/2025",
    "issued_on": "2025-03-01",
    "issuing_station": "Polsek Tempeh",
}
DAMAGED = {"nik_on_card": "3508054107850001", "condition": "chip retak"}


def file(kind: str, applicant: dict[str, Any] | None = None, **documents: Any) -> dict[str, Any]:
    return {
        "application_type": kind,
        "applicant": applicant if applicant is not None else APPLICANT.model_dump(mode="json"),
        "documents": documents,
    }


def codes(raw: dict[str, Any], today: date = TODAY) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in check_application(raw, today=today)]


def teenager(
    birth: str = "2008-03-10", nik: str = "3508051003080002", marital: str = "belum_kawin"
) -> dict[str, Any]:
    return {
        **APPLICANT.model_dump(mode="json"),
        "nik": nik,
        "birth_date": birth,
        "sex": "male",
        "marital_status": marital,
    }


def test_the_matrix() -> None:
    assert dict(REQUIREMENTS) == {
        ApplicationType.NEW: (Requirement.AGE_17_OR_EVER_MARRIED, Requirement.KK_PHOTOCOPY),
        ApplicationType.LOST: (Requirement.POLICE_LOSS_REPORT, Requirement.KK_PHOTOCOPY),
        ApplicationType.DAMAGED: (Requirement.KK_PHOTOCOPY, Requirement.DAMAGED_CARD_HANDED_IN),
    }
    assert set(REQUIREMENT_LABELS) == set(Requirement)


@pytest.mark.parametrize(
    ("raw"),
    [
        file("new", kk_photocopy=KK),
        file("lost", kk_photocopy=KK, police_report=POLICE),
        file("damaged", kk_photocopy=KK, damaged_card=DAMAGED),
        file("damaged", kk_photocopy=KK, damaged_card={}),  # unreadable card: still handed in
    ],
)
def test_complete_files_have_no_problems_and_parse(raw: dict[str, Any]) -> None:
    assert check_application(raw, today=TODAY) == []
    assert check_file(ApplicationFile.model_validate(raw), today=TODAY) == []


def test_new_without_kk_photocopy() -> None:
    assert codes(file("new")) == [("missing_kk_photocopy", "documents.kk_photocopy")]


def test_lost_without_anything() -> None:
    assert codes(file("lost")) == [
        ("missing_police_report", "documents.police_report"),
        ("missing_kk_photocopy", "documents.kk_photocopy"),
    ]


def test_damaged_without_the_card() -> None:
    assert codes(file("damaged", kk_photocopy=KK)) == [
        ("missing_damaged_card", "documents.damaged_card")
    ]


def test_documents_not_required_for_the_type_are_not_demanded() -> None:
    assert codes(file("new", kk_photocopy=KK, police_report=POLICE)) == []


def test_new_card_needs_17_years_or_marriage() -> None:
    assert codes(file("new", teenager(), kk_photocopy=KK), today=date(2025, 3, 9)) == [
        ("not_eligible", "applicant.birth_date")
    ]
    assert codes(file("new", teenager(), kk_photocopy=KK), today=date(2025, 3, 10)) == []
    for status in ("kawin", "cerai_hidup", "cerai_mati"):
        raw = file("new", teenager(marital=status), kk_photocopy=KK)
        assert codes(raw, today=date(2025, 3, 9)) == []


def test_age_rule_applies_to_new_cards_only() -> None:
    raw = file("lost", teenager(), kk_photocopy=KK, police_report=POLICE)
    assert codes(raw, today=date(2025, 3, 9)) == []


def test_invalid_items_and_missing_documents_are_reported_together() -> None:
    applicant = {**APPLICANT.model_dump(mode="json"), "nik": "35080541078500", "phone": "12"}
    del applicant["occupation"]
    raw = file("lost", applicant, police_report={**POLICE, "issued_on": "2099-01-01"})
    assert codes(raw) == [
        ("nik_wrong_length", "applicant.nik"),
        ("missing", "applicant.occupation"),
        ("invalid_phone", "applicant.phone"),
        ("date_in_future", "documents.police_report.issued_on"),
        ("missing_kk_photocopy", "documents.kk_photocopy"),
    ]


def test_police_report_with_missing_fields() -> None:
    raw = file("lost", kk_photocopy=KK, police_report={"number": "  "})
    assert codes(raw) == [
        ("invalid_text_length", "documents.police_report.number"),
        ("missing", "documents.police_report.issued_on"),
        ("missing", "documents.police_report.issuing_station"),
    ]


def test_missing_parts_and_unknown_type() -> None:
    assert codes({}) == [("missing", "application_type"), ("missing", "applicant")]
    problems = check_application(file("renewal", kk_photocopy=KK), today=TODAY)
    assert [(p.code, p.path) for p in problems] == [("enum", "application_type")]
    assert problems[0].message_id == "Pilihan tidak dikenal"


def test_entered_data_must_match_the_nik_and_documents() -> None:
    applicant = {**APPLICANT.model_dump(mode="json"), "birth_date": "1985-07-02", "sex": "male"}
    raw = file(
        "damaged",
        applicant,
        kk_photocopy={"kk_number": "3508050101100004"},
        damaged_card={"nik_on_card": "3508054107850002"},
    )
    assert codes(raw) == [
        ("nik_birth_date_mismatch", "applicant.birth_date"),
        ("nik_sex_mismatch", "applicant.sex"),
        ("kk_number_mismatch", "documents.kk_photocopy.kk_number"),
        ("damaged_card_nik_mismatch", "documents.damaged_card.nik_on_card"),
    ]


def test_every_problem_has_both_languages() -> None:
    raw = file("lost", {**APPLICANT.model_dump(mode="json"), "nik": "x"})
    problems = check_application(raw, today=TODAY)
    assert problems
    for p in problems:
        assert p.message_id and p.message_en and p.code and p.path
    assert "belum diserahkan" in problems[-1].message_id
    assert "has not been handed in" in problems[-1].message_en


def test_documents_left_out_or_null_mean_none_handed_in() -> None:
    raw = file("new")
    del raw["documents"]
    assert codes(raw) == [("missing_kk_photocopy", "documents.kk_photocopy")]
    assert codes({**raw, "documents": None}) == [("missing_kk_photocopy", "documents.kk_photocopy")]
