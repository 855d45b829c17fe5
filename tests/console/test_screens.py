"""Every screen of this part in a real browser, checked by axe-core (no serious or critical
violation); with ``TUNTAS_CONSOLE_SHOTS=docs/console`` each one's screenshot is kept."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.console.browser import Browser, chromium
from tests.console.files import file_for
from tests.console.stack import Stack
from tests.kit.tokens import As
from tests.waiting import wait_for

TEMPEH = "350805"


def _submitted(stack: Stack, nik: str, name: str, **applicant: Any) -> str:
    async def submit() -> str:
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.tempeh")) as api:
            answer = await api.post("/applications", json=file_for(TEMPEH, nik, name, **applicant))
            assert answer.status_code == 201, answer.text
            return str(answer.json()["application_id"])

    return stack.run(submit())


def _sent_back(stack: Stack, application_id: str) -> None:
    async def send_back() -> None:
        async with stack.api(stack.validation_url, As(stack.issuer, "kasi.tempeh")) as api:

            async def item_waits() -> bool:
                return (await api.get(f"/items/{application_id}")).status_code == 200

            await wait_for(item_waits, what="the work item")
            reason = {"code": "rt", "field": "applicant.address.rt", "note": "RT tidak sesuai KK"}
            answer = await api.post(
                f"/items/{application_id}/send-back", json={"reasons": [reason]}
            )
            assert answer.status_code == 200, answer.text
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.tempeh")) as desk:

            async def at_the_desk() -> bool:
                answer = await desk.get(f"/applications/{application_id}")
                return bool(answer.json()["state"] == "sent_back")

            await wait_for(at_the_desk, what="the file back at the desk")

    stack.run(send_back())


def test_every_screen_passes_axe(browser_as: Callable[[str], Browser], stack: Stack) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    anonymous = Browser(stack.console_url, chromium())
    try:
        anonymous.go("/login")
        found["login"] = anonymous.check("login")
    finally:
        anonymous.driver.quit()

    to_correct = _submitted(
        stack, "3508052504800003", "Agus Salim", birth_date="1980-04-25", sex="male"
    )
    waiting = _submitted(stack, "3508056808950004", "Dewi Lestari", birth_date="1995-08-28")
    _sent_back(stack, to_correct)

    desk = browser_as("desk.tempeh")
    for name, path in [
        ("home", "/"),
        ("desk-choose", "/desk/new"),
        ("desk-form", "/desk/new?type=lost"),
        ("desk-receipt", f"/desk/applications/{waiting}"),
        ("desk-corrections", "/desk/corrections"),
        ("desk-correction", f"/desk/corrections/{to_correct}"),
        ("desk-handover", "/desk/handover"),
        ("desk-handover-form", f"/desk/handover/{waiting}"),
        ("error", f"/desk/applications/{uuid.uuid4()}"),
    ]:
        desk.go(path)
        found[name] = desk.check(name)
        if name == "desk-correction":  # the kasi's reasons, in place
            assert "RT tidak sesuai KK" in desk.text("#s-applicant-address")
    desk.go("/desk/new?type=lost")
    desk.press("#submit")
    desk.find("#refusal")
    found["desk-refused"] = desk.check("desk-refused")
    desk.go("/")
    desk.press("button[lang='en']")
    desk.shows("main", "Welcome")
    found["home-en"] = desk.check("home-en")
    desk.press("button[lang='id']")  # back to Bahasa Indonesia for the other tests
    desk.shows("main", "Selamat")

    kasi = browser_as("kasi.tempeh")
    kasi.go("/kasi")
    kasi.wait().until(lambda d: "Dewi Lestari" in d.find_element("id", "queue").text)
    found["kasi-queue"] = kasi.check("kasi-queue")
    kasi.go(f"/kasi/items/{waiting}")
    found["kasi-item"] = kasi.check("kasi-item")

    assert {name: v for name, v in found.items() if v} == {}
    assert len(found) == 14
