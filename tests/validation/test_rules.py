"""The automatic checks, each with passing and failing cases (pure, no I/O)."""

from __future__ import annotations

from datetime import date

from schemas.application import (
    Applicant,
    ApplicationType,
    DamagedCard,
    Documents,
    KkPhotocopy,
    MaritalStatus,
    PoliceReport,
)
from schemas.events import ApplicationAccepted
from schemas.residents import FamilyRole, RegistryPerson
from schemas.samples import APPLICANT, SAMPLE_PAYLOADS
from schemas.values import Sex
from services.validation import rules
from services.validation.rules import Finding

ON = date(2025, 1, 6)
KEC = "350805"
KK = APPLICANT.kk_number


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def resident(**changes: object) -> RegistryPerson:
    data = APPLICANT.model_dump(exclude={"phone"})
    return RegistryPerson.model_validate({**data, "family_role": FamilyRole.ISTRI, **changes})


def applicant(**changes: object) -> Applicant:
    return APPLICANT.model_copy(update=changes)


# ---------------------------------------------------------------- numbers


def test_numbers_valid_and_kk_from_this_kabupaten() -> None:
    assert rules.check_numbers(APPLICANT.nik, KK, kecamatan=KEC, applied_on=ON) == []


def test_nik_from_another_region_is_not_a_finding() -> None:
    # First issued in Jember (35.09) before moving to Tempeh: the NIK keeps its region.
    nik = "3509014107850001"
    assert rules.check_numbers(nik, KK, kecamatan=KEC, applied_on=ON) == []


def test_kk_from_another_kabupaten_is_a_finding() -> None:
    found = rules.check_numbers(APPLICANT.nik, "3509010101100003", kecamatan=KEC, applied_on=ON)
    assert codes(found) == ["kk_outside_kabupaten"]
    assert found[0].field == "applicant.kk_number"
    assert found[0].message_id and found[0].message_en


def test_malformed_nik_and_kk() -> None:
    found = rules.check_numbers("35080541078500", "35080501011000AB", kecamatan=KEC, applied_on=ON)
    assert codes(found) == ["nik_invalid", "kk_invalid"]
    assert "16" in found[0].message_en and "16" in found[0].message_id


def test_nik_with_impossible_birth_date() -> None:
    found = rules.check_numbers("3508053102850001", KK, kecamatan=KEC, applied_on=ON)
    assert codes(found) == ["nik_invalid"]


# ---------------------------------------------------------------- NIK vs biodata


def test_nik_matches_birth_date_and_sex() -> None:
    assert rules.check_nik_biodata(APPLICANT, applied_on=ON) == []


def test_nik_birth_date_mismatch() -> None:
    found = rules.check_nik_biodata(applicant(birth_date=date(1985, 7, 2)), applied_on=ON)
    assert codes(found) == ["nik_birth_date_mismatch"]


def test_nik_sex_mismatch() -> None:
    found = rules.check_nik_biodata(applicant(sex=Sex.MALE), applied_on=ON)
    assert codes(found) == ["nik_sex_mismatch"]
    assert found[0].field == "applicant.sex"


# ---------------------------------------------------------------- eligibility


def test_seventeen_today_is_eligible() -> None:
    young = applicant(birth_date=date(2008, 1, 6), marital_status=MaritalStatus.BELUM_KAWIN)
    assert rules.check_eligible(young, applied_on=ON) == []


def test_under_seventeen_unmarried_is_not_eligible() -> None:
    young = applicant(birth_date=date(2008, 1, 7), marital_status=MaritalStatus.BELUM_KAWIN)
    found = rules.check_eligible(young, applied_on=ON)
    assert codes(found) == ["not_eligible"]
    assert "Perpres 96/2018" in found[0].message_id


def test_under_seventeen_but_ever_married_is_eligible() -> None:
    for status in (MaritalStatus.KAWIN, MaritalStatus.CERAI_HIDUP, MaritalStatus.CERAI_MATI):
        young = applicant(birth_date=date(2009, 3, 1), marital_status=status)
        assert rules.check_eligible(young, applied_on=ON) == []


# ---------------------------------------------------------------- registry


def test_registry_member_of_the_stated_kk() -> None:
    assert rules.check_registry(APPLICANT, resident()) == []


def test_registry_name_compared_without_case_and_spacing() -> None:
    assert rules.check_registry(APPLICANT, resident(name="SITI  NUR'AINI")) == []


def test_not_in_registry() -> None:
    assert codes(rules.check_registry(APPLICANT, None)) == ["not_in_registry"]


def test_not_member_of_the_stated_kk() -> None:
    found = rules.check_registry(APPLICANT, resident(kk_number="3508050202110004"))
    assert codes(found) == ["not_member_of_kk"]


def test_registry_data_mismatches() -> None:
    found = rules.check_registry(
        applicant(name="Siti Aminah", birth_date=date(1985, 7, 2), sex=Sex.MALE), resident()
    )
    assert codes(found) == [
        "registry_name_mismatch",
        "registry_birth_date_mismatch",
        "registry_sex_mismatch",
    ]


# ---------------------------------------------------------------- other applications


def test_no_other_active_application() -> None:
    assert rules.check_no_other_active(()) == []


def test_other_active_application() -> None:
    found = rules.check_no_other_active(("TPH-20250106-0002",))
    assert codes(found) == ["other_active_application"]
    assert "TPH-20250106-0002" in found[0].message_id


# ---------------------------------------------------------------- documents

KK_COPY = KkPhotocopy(kk_number=KK)
REPORT = PoliceReport(
    number="SKTLK/12/I/2025", issued_on=date(2025, 1, 3), issuing_station="Polsek Tempeh"
)


def test_new_card_with_kk_copy() -> None:
    docs = Documents(kk_photocopy=KK_COPY)
    assert rules.check_documents(ApplicationType.NEW, docs, APPLICANT, applied_on=ON) == []


def test_kk_copy_missing_or_different() -> None:
    assert codes(
        rules.check_documents(ApplicationType.NEW, Documents(), APPLICANT, applied_on=ON)
    ) == ["kk_photocopy_missing"]
    other = Documents(kk_photocopy=KkPhotocopy(kk_number="3508050202110004"))
    assert codes(rules.check_documents(ApplicationType.NEW, other, APPLICANT, applied_on=ON)) == [
        "kk_photocopy_mismatch"
    ]


def test_lost_card_police_report_before_or_on_the_day() -> None:
    for issued in (date(2025, 1, 3), ON):
        docs = Documents(
            kk_photocopy=KK_COPY, police_report=REPORT.model_copy(update={"issued_on": issued})
        )
        assert rules.check_documents(ApplicationType.LOST, docs, APPLICANT, applied_on=ON) == []


def test_lost_card_police_report_missing() -> None:
    docs = Documents(kk_photocopy=KK_COPY)
    found = rules.check_documents(ApplicationType.LOST, docs, APPLICANT, applied_on=ON)
    assert codes(found) == ["police_report_missing"]


def test_lost_card_police_report_after_application() -> None:
    docs = Documents(kk_photocopy=KK_COPY, police_report=REPORT)
    found = rules.check_documents(
        ApplicationType.LOST, docs, APPLICANT, applied_on=date(2025, 1, 2)
    )
    assert codes(found) == ["police_report_after_application"]
    assert found[0].field == "documents.police_report.issued_on"


def test_damaged_card_handed_in() -> None:
    for card in (DamagedCard(nik_on_card=APPLICANT.nik), DamagedCard(condition="chip retak")):
        docs = Documents(kk_photocopy=KK_COPY, damaged_card=card)
        assert rules.check_documents(ApplicationType.DAMAGED, docs, APPLICANT, applied_on=ON) == []


def test_damaged_card_not_handed_in_or_someone_elses() -> None:
    docs = Documents(kk_photocopy=KK_COPY)
    assert codes(
        rules.check_documents(ApplicationType.DAMAGED, docs, APPLICANT, applied_on=ON)
    ) == ["damaged_card_not_handed_in"]
    docs = Documents(kk_photocopy=KK_COPY, damaged_card=DamagedCard(nik_on_card="3508051707800002"))
    assert codes(
        rules.check_documents(ApplicationType.DAMAGED, docs, APPLICANT, applied_on=ON)
    ) == ["damaged_card_nik_mismatch"]


# ---------------------------------------------------------------- all together


def test_evaluate_the_sample_file_is_clean() -> None:
    accepted = SAMPLE_PAYLOADS["application.accepted"]
    assert isinstance(accepted, ApplicationAccepted)
    evidence = rules.Evidence(kecamatan=KEC, applied_on=ON, resident=resident())
    assert rules.evaluate(accepted, evidence) == []


def test_evaluate_collects_every_finding() -> None:
    accepted = SAMPLE_PAYLOADS["application.accepted"]
    assert isinstance(accepted, ApplicationAccepted)
    broken = accepted.model_copy(
        update={
            "applicant": applicant(sex=Sex.MALE),
            "documents": Documents(kk_photocopy=KK_COPY),
        }
    )
    evidence = rules.Evidence(
        kecamatan=KEC, applied_on=ON, resident=None, other_active=("TPH-1-000001",)
    )
    assert codes(rules.evaluate(broken, evidence)) == [
        "nik_sex_mismatch",
        "not_in_registry",
        "other_active_application",
        "police_report_missing",
    ]
