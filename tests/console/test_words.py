"""The console's words and the desk form's rules, without a browser."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from schemas.application import ApplicationType
from schemas.samples import APPLICANT
from services.console import desk_form
from services.console.auth import safe_next
from services.console.i18n import EN, ID, Words


def test_both_languages_have_the_same_words() -> None:
    assert set(ID) == set(EN)
    assert all(ID.values()) and all(EN.values())


def test_dates_are_in_the_office_time_zone_and_language() -> None:
    moment = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 00.30 the next day in WIB
    assert Words("id", ZoneInfo("Asia/Jakarta")).when(moment) == "4 Desember 2026 00.30"
    assert Words("en", ZoneInfo("Asia/Makassar")).when(moment) == "4 December 2026 01.30"
    assert Words("id", ZoneInfo("Asia/Jakarta")).day("2026-12-04T02:00:00+00:00") == (
        "4 Desember 2026"
    )


def test_the_body_leaves_out_what_was_not_typed() -> None:
    typed = {
        "applicant.name": " Siti ",
        "applicant.address.rt": "2",
        "documents.police_report.number": "",
    }
    body = desk_form.body_from_form(ApplicationType.LOST, typed)
    assert body == {
        "application_type": "lost",
        "applicant": {"name": "Siti", "address": {"rt": "2"}},
        "documents": {},
    }
    damaged = {desk_form.DAMAGED_HANDED_IN: "on"}
    assert desk_form.body_from_form(ApplicationType.DAMAGED, damaged)["documents"] == {
        "damaged_card": {}
    }


def test_a_file_fills_the_form_again() -> None:
    file = {"applicant": APPLICANT.model_dump(mode="json"), "documents": {"damaged_card": {}}}
    values = desk_form.values_of(file)
    assert values["applicant.address.desa_code"] == APPLICANT.address.desa_code
    assert values[desk_form.DAMAGED_HANDED_IN] == "on"


def test_problems_are_placed_at_their_field_or_nearest_section() -> None:
    problems = [
        {"path": "applicant.nik", "message_id": "NIK salah", "message_en": "wrong NIK"},
        {"path": "documents.police_report", "message_id": "Surat kepolisian"},
        {"path": "documents.police_report.issued_on.year", "message_id": "Tanggal"},
        {"path": "kecamatan", "message_id": "Kantor"},
    ]
    placed = desk_form.place(problems, ApplicationType.LOST, "en")
    assert placed.by_path["applicant.nik"] == ["wrong NIK"]
    assert placed.by_path["documents.police_report"] == ["Surat kepolisian"]
    assert placed.by_path["documents.police_report.issued_on"] == ["Tanggal"]
    assert placed.by_path[""] == ["Kantor"]
    assert placed.summary[0] == ("f-applicant-nik", "wrong NIK")


def test_login_comes_back_to_this_site_only() -> None:
    assert safe_next("/desk/new?type=lost") == "/desk/new?type=lost"
    for outside in ("https://evil.example/", "//evil.example/x", "/\\evil", "", None):
        assert safe_next(outside) == "/"
