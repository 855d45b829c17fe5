"""The desk hands a card over in a real browser: found by tracking number, the collector's NIK
checked, the applicant signs on the canvas, the bukti penerimaan PDF carries the signature.
The card's activation comes as the card station publishes it (``card.activated``)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

from pypdf import PdfReader
from selenium.webdriver.common.action_chains import ActionChains

from schemas.envelope import Envelope
from schemas.events import CardActivated
from schemas.topics import Topics
from tests.console.browser import Browser
from tests.console.files import file_for
from tests.console.stack import Stack
from tests.kit.tokens import As
from tests.kit.topics import publish
from tests.waiting import wait_for

TEMPEH = "350805"
NIK = "3508055506880005"  # a woman born 15 June 1988


def _activated_card(stack: Stack) -> tuple[str, str]:
    async def activated() -> tuple[str, str]:
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.tempeh")) as api:
            answer = await api.post(
                "/applications", json=file_for(TEMPEH, NIK, "Rina Wati", birth_date="1988-06-15")
            )
            assert answer.status_code == 201, answer.text
            receipt = answer.json()
            application_id = uuid.UUID(receipt["application_id"])
            card = CardActivated(chip_serial="04A1B2C3D4E5F6", officer_id="card.tempeh")
            event = Envelope.new(card, application_id=application_id, kecamatan=TEMPEH)
            await publish(stack.kafka, Topics(stack.prefix), event)

            async def at_the_desk() -> bool:
                found = await api.get(f"/applications/{application_id}")
                return bool(found.json()["state"] == "activated")

            await wait_for(at_the_desk, what="the activated card at the desk")
            return str(application_id), str(receipt["tracking_number"])

    return stack.run(activated())


def test_desk_hands_over_a_card_against_the_signature(
    browser_as: Callable[[str], Browser], stack: Stack
) -> None:
    application_id, tracking = _activated_card(stack)
    desk = browser_as("desk.tempeh")
    desk.go("/desk/handover")
    desk.type("#q", tracking.lower())
    desk.press("#q")  # Enter in the search field
    desk.at("/desk/handover?q=")
    assert desk.check("desk-handover-found") == []
    desk.press(f"a[href='/desk/handover/{application_id}']")
    desk.at(f"/desk/handover/{application_id}")

    desk.type("#presented_nik", "3508050000000000")  # another person's identity
    desk.find("#id_checked").send_keys(" ")
    pad = desk.find("#signature-pad")
    ActionChains(desk.driver).move_to_element_with_offset(
        pad, -100, 0
    ).click_and_hold().move_by_offset(120, 30).move_by_offset(60, -40).release().perform()
    desk.press("#submit")
    assert desk.find("#refusal").text  # the NIK presented is not the applicant's

    desk.type("#presented_nik", NIK)
    desk.find("#id_checked").send_keys(" ")
    pad = desk.find("#signature-pad")
    ActionChains(desk.driver).move_to_element_with_offset(
        pad, -100, 0
    ).click_and_hold().move_by_offset(120, 30).move_by_offset(60, -40).release().perform()
    desk.press("#submit")
    desk.find("#proof-pdf")
    assert "Rina Wati" in desk.text("main")
    assert desk.check("desk-handed-over") == []

    async def state() -> str:
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.tempeh")) as api:
            return str((await api.get(f"/applications/{application_id}")).json()["state"])

    assert stack.run(state()) == "collected"
    pdf = desk.fetch(f"/desk/handover/{application_id}/proof.pdf")
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.content))
    assert "BUKTI PENERIMAAN" in reader.pages[0].extract_text()
    assert tracking in reader.pages[0].extract_text()
    assert reader.pages[0].images  # the drawn signature
