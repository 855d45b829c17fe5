"""The desk in a real browser: a complete file gives the receipt (keyboard only), an
incomplete one shows its reasons at the fields, another office's file cannot be opened, and a
half-filled form survives a session that ended."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
from pypdf import PdfReader
from selenium.webdriver.common.keys import Keys

from schemas.samples import APPLICANT
from tests.console.browser import Browser
from tests.console.files import BIRTH_DATE, CHOSEN, PDF, TYPED, file_for
from tests.console.stack import Stack
from tests.kit.tokens import As

KUNIR = "350806"


def fill(browser: Browser, typed: dict[str, str]) -> None:
    for element_id, text in typed.items():
        browser.type(f"#{element_id}", text)
    for element_id, option in CHOSEN.items():
        browser.find(f"#{element_id}").send_keys(option)
    browser.type_date("#f-applicant-birth_date", BIRTH_DATE)


def test_desk_submits_a_file_and_sees_the_receipt(
    browser_as: Callable[[str], Browser], stack: Stack, tmp_path: Path
) -> None:
    desk = browser_as("desk.tempeh")
    desk.go("/")
    desk.press("a[href='/desk/new']")
    desk.at("/desk/new")
    desk.press("#type-new")
    desk.at("/desk/new?type=new")
    assert "Fotokopi Kartu Keluarga" in desk.text("#checklist")
    fill(desk, TYPED)
    scan = tmp_path / "kk.pdf"
    scan.write_bytes(PDF)
    desk.find("#f-kk_scan").send_keys(str(scan))
    desk.press("#submit")

    desk.at("/desk/applications/")
    tracking = desk.text("#tracking-number")
    application_id = desk.path().split("/")[3].split("?")[0]

    async def from_intake() -> dict[str, str]:
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.tempeh")) as api:
            answer = await api.get(f"/applications/{application_id}")
            assert answer.status_code == 200, answer.text
            found: dict[str, str] = answer.json()
            return found

    stored = stack.run(from_intake())
    assert stored["tracking_number"] == tracking
    assert stored["file"]["applicant"]["nik"] == APPLICANT.nik
    assert desk.text("#promised")  # the promised date, in the office's words
    pdf = desk.fetch(f"/desk/applications/{application_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert tracking in text and "TANDA TERIMA" in text


def test_an_incomplete_file_shows_its_reasons_in_place(
    browser_as: Callable[[str], Browser],
) -> None:
    desk = browser_as("desk.tempeh")
    desk.go("/desk/new?type=lost")
    fill(desk, {**TYPED, "f-applicant-nik": "3508051203900002", "f-applicant-name": "Budi Santoso"})
    desk.press("#submit")

    refusal = desk.find("#refusal")
    assert "tidak lengkap" in refusal.text
    police = desk.find("#s-documents-police_report")
    assert "kepolisian" in police.find_element("css selector", ".error").text.lower()
    assert desk.find("#f-applicant-name").get_attribute("value") == "Budi Santoso"  # kept


def test_tempeh_desk_cannot_open_a_kunir_application(
    browser_as: Callable[[str], Browser], stack: Stack
) -> None:
    async def submit_at_kunir() -> str:
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.kunir")) as api:
            body = file_for(KUNIR, "3508064107850002", "Warga Kunir")
            answer = await api.post("/applications", json=body)
            assert answer.status_code == 201, answer.text
            return str(answer.json()["application_id"])

    kunir_id = stack.run(submit_at_kunir())
    desk = browser_as("desk.tempeh")
    desk.go(f"/desk/applications/{kunir_id}")
    assert desk.find("#error-message").text.startswith("Tidak ditemukan")
    assert "Warga Kunir" not in desk.driver.page_source
    assert desk.fetch(f"/desk/applications/{kunir_id}/receipt.pdf").status_code == 404
    assert desk.fetch(f"/desk/corrections/{kunir_id}").status_code == 404

    anonymous = httpx.get(f"{stack.console_url}/desk/applications/{kunir_id}", timeout=30)
    assert anonymous.status_code == 303  # and nobody logged out sees anything
    assert anonymous.headers["location"].startswith(f"{stack.console_url}/login?next=")


def test_a_half_filled_form_survives_the_end_of_the_session(
    browser_as: Callable[[str], Browser],
) -> None:
    desk = browser_as("desk.tempeh")
    desk.go("/desk/new?type=damaged")
    desk.type("#f-applicant-name", "Nama Setengah Jadi")
    desk.type("#f-applicant-occupation", "Guru")
    desk.driver.delete_cookie("tuntas_console")  # as when the session ends
    desk.find("#f-applicant-nik").send_keys("35080", Keys.ENTER)  # submits the form

    desk.at("/login")
    desk.press("#login")  # the IdP still knows the officer: straight back
    desk.at("/desk/new?type=damaged")
    assert desk.find("#f-applicant-name").get_attribute("value") == "Nama Setengah Jadi"
    assert desk.find("#f-applicant-occupation").get_attribute("value") == "Guru"
