"""The section head in a real browser: a file received at the desk appears in the open
validation queue without a reload (the live nudge), its registry findings beside it, and the
approval reaches the validation stage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.console.browser import Browser
from tests.console.files import file_for
from tests.console.stack import Stack
from tests.kit.tokens import As

TEMPEH = "350805"


def test_kasi_sees_a_new_file_live_and_approves_it(
    browser_as: Callable[[str], Browser], stack: Stack
) -> None:
    kasi = browser_as("kasi.tempeh")
    kasi.go("/kasi")
    kasi.find("#queue")
    marker = kasi.driver.execute_script("return window.performance.timeOrigin")

    async def submit() -> dict[str, Any]:
        async with stack.api(stack.intake_url, As(stack.issuer, "desk.tempeh")) as api:
            body = file_for(
                TEMPEH,
                "3508051203900002",
                "Budi Santoso",
                birth_date="1990-03-12",
                sex="male",
            )
            answer = await api.post("/applications", json=body)
            assert answer.status_code == 201, answer.text
            receipt: dict[str, Any] = answer.json()
            return receipt

    receipt = stack.run(submit())
    tracking = receipt["tracking_number"]
    kasi.wait().until(lambda d: tracking in d.find_element("id", "queue").text)
    # the same page, not reloaded: the row came through the live nudge
    assert kasi.driver.execute_script("return window.performance.timeOrigin") == marker

    kasi.press(f"a[href='/kasi/items/{receipt['application_id']}']")
    kasi.at(f"/kasi/items/{receipt['application_id']}")
    assert "Budi Santoso" in kasi.text("main")
    kasi.find("#findings")  # the registry findings beside the file
    kasi.press("#approve")
    assert "disetujui" in kasi.text("#decided")

    async def status() -> str:
        async with stack.api(stack.validation_url, As(stack.issuer, "kasi.tempeh")) as api:
            answer = await api.get(f"/items/{receipt['application_id']}")
            assert answer.status_code == 200, answer.text
            return str(answer.json()[-1]["status"])

    assert stack.run(status()) == "approved"
