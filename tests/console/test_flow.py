"""Every role's main step in a real browser, on the whole stack as `tuntas up` runs it: the desk
submits a file → the kasi approves it → the recording operator records the applicant → the
station prints the card and the card operator activates it → the desk hands it over against a
signature drawn on screen → the caller has nobody left to call. Measured on the way (printed,
and in docs/console.md): each screen's page load (Navigation Timing), how long after the desk's
submission the kasi's queue refreshed by itself, and what the desk's submission cost in keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from schemas.samples import APPLICANT
from simulators.capture.render import render
from simulators.capture.subjects import simulation_seed
from simulators.courier import Courier
from tests.console.browser import Browser
from tests.console.files import BIRTH_DATE, CHOSEN, PDF, TYPED
from tests.console.full_stack import FullStack, staff_api
from tests.console.test_dashboard import WATCH, page_load_ms
from tests.console.test_desk import fill
from tuntas import topology

pytestmark = pytest.mark.timeout(600)  # the first test of a session starts the whole stack
PIN = "246810"


def desk_submits(desk: Browser, scan: Path) -> tuple[str, float, dict[str, int]]:
    """The desk's whole submission by keyboard: the application's id, when it was sent (ms
    since the epoch) and what it cost."""
    desk.go("/")
    desk.press("a[href='/desk/new']")
    desk.at("/desk/new")
    desk.press("#type-new")
    desk.at("/desk/new?type=new")
    fill(desk, TYPED)
    desk.find("#f-kk_scan").send_keys(str(scan))
    sent_ms = time.time() * 1000
    desk.press("#submit")
    desk.at("/desk/applications/")
    cost = {
        "keys pressed to open and send": 3,  # the menu entry, the type, submit (Enter each)
        "characters typed": sum(map(len, TYPED.values()))
        + sum(map(len, CHOSEN.values()))
        + len(f"{BIRTH_DATE:%d%m%Y}"),
        "fields": len(TYPED) + len(CHOSEN) + 1,
        "files chosen": 1,
    }
    return desk.path().split("/")[3].split("?")[0], sent_ms, cost


def sign(browser: Browser) -> None:
    """A signature drawn with the pointer on the pad's canvas."""
    pad = browser.find("#signature-pad")
    ActionChains(browser.driver).move_to_element_with_offset(pad, -120, 0).click_and_hold()\
        .move_by_offset(60, 25).move_by_offset(60, -30).move_by_offset(60, 20).release()\
        .perform()  # fmt: skip


def test_every_role_in_turn_from_the_desk_to_the_handover(
    full_stack: FullStack, full_browser_as: Callable[[str], Browser], tmp_path: Path
) -> None:
    loads: dict[str, float] = {}

    def visit(browser: Browser, path: str, name: str) -> None:
        browser.go(path)
        browser.find("main")
        loads[name] = page_load_ms(browser)

    async def courier_brings_blanks() -> None:  # the Dinas courier, at the station's API
        async with staff_api(full_stack, "", "card.tempeh") as http:
            await Courier(http).deliver(full_stack.station(), topology.TEMPEH, 5, "flow")

    full_stack.run(courier_brings_blanks())

    kasi = full_browser_as("kasi.tempeh")
    visit(kasi, "/kasi", "kasi: validation queue")
    kasi.driver.execute_script(WATCH.replace("'figures'", "'queue'"))

    desk = full_browser_as("desk.tempeh")
    scan = tmp_path / "kk.pdf"
    scan.write_bytes(PDF)
    app_id, submitted_ms, cost = desk_submits(desk, scan)
    loads["desk: receipt"] = page_load_ms(desk)
    tracking = desk.text("#tracking-number")

    # The kasi's queue shows the file by itself (server-sent nudge), then the kasi approves.
    kasi.wait().until(lambda _: tracking in kasi.text("#queue"))
    queue_ms = kasi.driver.execute_script("return window.__refreshed;") - submitted_ms
    kasi.press(f"a[href='/kasi/items/{app_id}']")
    kasi.at(f"/kasi/items/{app_id}")
    kasi.press("#approve")
    assert kasi.text("#decided")

    # The applicant sits at the capture devices; the operator records from the queue.
    async def applicant_sits_down() -> None:
        station = topology.device_url(full_stack.options).format(kecamatan=topology.TEMPEH)
        async with httpx.AsyncClient(timeout=30) as http:
            seat = {"seed": simulation_seed(APPLICANT.nik), "poor_attempts": {}}
            assert (await http.put(f"{station}/subject", json=seat)).status_code == 204

    full_stack.run(applicant_sits_down())
    operator = full_browser_as("operator.tempeh")
    visit(operator, "/operator", "operator: recording queue")
    operator.wait().until(lambda _: tracking in operator.text("#queue"))
    operator.press(f"a[href='/operator/capture/{app_id}']")
    operator.press("#capture")
    assert operator.find("#captured").text

    # The station prints by itself; the card operator activates with the live finger and PIN.
    card = full_browser_as("card.tempeh")
    finger = tmp_path / "finger.png"
    finger.write_bytes(render(simulation_seed(APPLICANT.nik), "finger.right_index", 3).data)
    visit(card, "/card", "card operator: station")

    def printed(_: object) -> bool:
        card.go(f"/card/jobs/{app_id}/activate")
        return bool(card.driver.find_elements("css selector", "#activate"))

    card.wait().until(printed)
    card.find("#finger_image").send_keys(str(finger))
    card.type("#pin", PIN)
    card.press("#activate")
    assert card.text("#activation") and not card.driver.find_elements("css selector", "#refusal")

    # The desk hands the card over: the ID checked, the applicant signs on the screen.
    visit(desk, f"/desk/handover?q={tracking}", "desk: handover")
    desk.press(f"a[href='/desk/handover/{app_id}']")  # waits for the link
    desk.type("#presented_nik", APPLICANT.nik)
    desk.find("#id_checked").click()
    sign(desk)
    desk.press("#submit")
    proof = desk.find("#proof-pdf").get_attribute("href") or ""
    assert desk.fetch(proof.removeprefix(desk.base)).headers["content-type"] == "application/pdf"

    # Nothing is left: no card to hand over, nobody to call.
    visit(desk, "/desk/handover", "desk: handover list")
    assert tracking not in desk.text("#queue")
    caller = full_browser_as("caller.tempeh")
    visit(caller, "/caller", "caller: call list")
    assert tracking not in caller.text("#calls") and caller.find("#calls p").text

    print("\npage load (ms):", {k: round(v) for k, v in loads.items()})
    print(f"kasi queue refreshed {queue_ms:.0f} ms after the desk's submission")
    print("desk submission:", cost)
