"""The camat's dashboard on the full stack: today's figures change live (no reload) when the
desk takes in a file and refuses another, the refusal reason shows in its chart, the camat sees
only Tempeh, and the district admin picks one office or the whole district."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.console.browser import Browser
from tests.console.files import file_for
from tests.console.full_stack import FullStack, staff_api
from tuntas.topology import TEMPEH

pytestmark = pytest.mark.timeout(420)  # the first test of a session starts the whole stack
KUNIR = "350806"
WATCH = (  # records when #figures was last refreshed (ms since the epoch, the browser's clock)
    "window.__refreshed = null;"
    "new MutationObserver(function () { window.__refreshed = Date.now(); })"
    ".observe(document.getElementById('figures'), {childList: true, subtree: true});"
)


def figure(browser: Browser, key: str, column: int = 0) -> str:
    return browser.text(f"td[data-figure='dash.{key}-{column}']")


def page_load_ms(browser: Browser) -> float:
    """Navigation Timing: from the request's start to the load event's end."""
    return float(
        browser.driver.execute_script(
            "var n = performance.getEntriesByType('navigation')[0];"
            "return n.loadEventEnd - n.startTime;"
        )
    )


def test_camat_dashboard_is_live_and_the_admin_picks_an_office(
    full_stack: FullStack, full_browser_as: Callable[[str], Browser]
) -> None:
    camat = full_browser_as("camat.tempeh")
    camat.go("/dashboard")
    camat.find("#figures")
    load_ms = page_load_ms(camat)
    assert "Tempeh" in camat.text("h1")
    received, refused = int(figure(camat, "received")), int(figure(camat, "refused"))
    camat.driver.execute_script(WATCH)

    async def desk_takes_one_and_refuses_one() -> None:
        async with staff_api(full_stack, full_stack.url("intake"), "desk.tempeh") as api:
            complete = file_for(TEMPEH, "3508054107850011", "Warga Dasbor")
            answer = await api.post("/applications", json=complete)
            assert answer.status_code == 201, answer.text
            incomplete = file_for(TEMPEH, "3508054107850012", "Warga Kurang")
            incomplete["documents"] = {}
            answer = await api.post("/applications", json=incomplete)
            assert answer.status_code == 422, answer.text

    sent_ms = time.time() * 1000
    full_stack.run(desk_takes_one_and_refuses_one())
    camat.wait().until(
        lambda _: (
            int(figure(camat, "received")) == received + 1
            and int(figure(camat, "refused")) == refused + 1
        )
    )
    latency_ms = camat.driver.execute_script("return window.__refreshed;") - sent_ms
    assert camat.driver.execute_script("return window.__refreshed !== null;")  # not a reload
    reasons = camat.find("#chart-refusals-0 svg").get_attribute("aria-label") or ""
    assert "kk_" in reasons, reasons  # the missing KK photocopy, by its code
    assert camat.check("dashboard") == []
    print(f"dashboard: page load {load_ms:.0f} ms, live update {latency_ms:.0f} ms after the event")

    camat.go(f"/dashboard?kecamatan={KUNIR}")  # another office: the camat still sees their own
    assert "Tempeh" in camat.text("h1") and "Kunir" not in camat.text("h1")
    assert not camat.driver.find_elements("css selector", "#kecamatan")

    admin = full_browser_as("admin.kabupaten")
    admin.go("/dashboard")
    assert "kabupaten" in admin.text("h1").lower()
    assert int(figure(admin, "received")) >= received + 1
    assert admin.check("dashboard-district") == []
    admin.find("#kecamatan").send_keys("Tempeh")
    admin.press("form.picker button")
    admin.at(f"/dashboard?kecamatan={TEMPEH}")
    assert "Tempeh" in admin.text("h1")
    assert figure(admin, "received") == figure(camat, "received")
