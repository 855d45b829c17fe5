"""The recording operator in a real browser against the real biometric stage (its ABIS and the
capture device simulator beside it): the device status, an applicant appearing in the queue
without a reload, a capture whose poor face is retaken by the stage (shown per item), a capture
that fails on the signature and is retried from the screen; then the section head's duplicate
adjudication, the two records side by side, cleared."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.biometric.stage_kit import Stage, validated
from tests.console.beside import serve_biometric
from tests.console.browser import Browser
from tests.console.live_page import press_fresh, text_of
from tests.console.stack import Stack


@pytest.fixture(scope="module")
def biometric(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return serve_biometric(stack, tmp_path_factory.mktemp("biometric"))


def queued(operator: Browser, stage: Stage, stack: Stack, nik: str, name: str) -> str:
    """A validated applicant sent to the stage; waits for its row in the open queue."""
    payload = validated(nik, name=name)
    application_id = stack.run(stage.send_validated(payload))
    operator.wait().until(lambda d: payload.tracking_number in text_of(d, "queue"))
    return str(application_id)


def test_operator_records_with_retakes_and_a_retry(
    browser_as: Callable[[str], Browser], stack: Stack, biometric: Stage
) -> None:
    operator = browser_as("operator.tempeh")
    operator.go("/operator")
    assert "Siap" in operator.text("#devices")
    marker = operator.driver.execute_script("return window.performance.timeOrigin")
    first = queued(operator, biometric, stack, "3508051111900001", "Rina Wulandari")
    # the same page, not reloaded: the row came through the live nudge
    assert operator.driver.execute_script("return window.performance.timeOrigin") == marker
    assert operator.check("operator-queue") == []

    stack.run(biometric.sit("console-rina", poor_attempts={"face": 1}))
    # the row's link (read in one script: more nudges may still swap the fragment)
    link = f"a[href='/operator/capture/{first}']"
    assert operator.driver.execute_script(f'return !!document.querySelector("{link}")')
    operator.go(f"/operator/capture/{first}")
    assert operator.check("operator-capture") == []
    operator.press("#capture")
    operator.find("#captured")
    face = [r.text for r in operator.driver.find_elements("css selector", "#attempts tr")]
    assert any(row.startswith("face 2") for row in face), face  # the poor face retaken once
    assert operator.check("operator-captured") == []

    operator.press("#next")
    operator.at("/operator")
    second = queued(operator, biometric, stack, "3508051111900002", "Rina Dua")
    stack.run(biometric.sit("console-rina", poor_attempts={"signature": 9}))
    operator.go(f"/operator/capture/{second}")
    operator.press("#capture")
    refusal = operator.text("#refusal")
    assert "Tanda tangan" in refusal, refusal  # the item that failed, named
    assert operator.check("operator-capture-failed") == []
    stack.run(biometric.sit("console-rina"))  # the same person, signing properly now
    operator.press("#capture")  # "Rekam ulang" on the same screen
    operator.find("#captured")
    assert operator.path() == f"/operator/capture/{second}"


def test_section_head_clears_a_suspected_duplicate_side_by_side(
    browser_as: Callable[[str], Browser], stack: Stack, biometric: Stage
) -> None:
    kasi = browser_as("kasi.tempeh")
    kasi.go("/operator/duplicates")
    kasi.find("#cases")
    operator = browser_as("operator.tempeh")
    operator.go("/operator")
    original = queued(operator, biometric, stack, "3508051111900003", "Dewi Lestari")
    again = queued(operator, biometric, stack, "3508051111900004", "Dewi Lestari Dua")
    for application_id in (original, again):
        stack.run(biometric.sit("console-dewi"))
        answer = stack.run(biometric.capture(uuid.UUID(application_id)))
        assert answer.status_code == 200, answer.text

    kasi.wait().until(lambda d: "3508********0004" in text_of(d, "cases"))
    cases = stack.run(biometric.http.get("/adjudication", params={"kecamatan": "350805"}))
    (case_id,) = [c["case_id"] for c in cases.json() if c["nik_masked"].endswith("0004")]
    script = "return document.querySelectorAll(arguments[0]).length"
    sides = kasi.driver.execute_script(script, f"article:has([id='clear-{case_id}']) section")
    assert sides >= 2  # the new record beside the earlier one the ABIS found
    assert kasi.check("operator-duplicates") == []
    press_fresh(kasi, f"button[id='clear-{case_id}']")
    assert "bukan data ganda" in kasi.text("#decided")
