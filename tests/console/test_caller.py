"""The caller in a real browser against the real notification stage (sending to the local
SMSC): an uncollected card's call appears with the applicant's number, the outcome form is
saved and the stage schedules the next contact; the SMS log shows the card-ready SMS."""

from __future__ import annotations

import random
from collections.abc import Callable
from uuid import uuid4

import pytest
from selenium.webdriver.common.by import By

from services.console.web import RELOAD_S
from tests.console.beside import serve_notification
from tests.console.browser import Browser
from tests.console.live_page import press_fresh, text_of
from tests.console.stack import Stack
from tests.notification.service_kit import accepted, ready, texts, wib
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port


def test_caller_records_an_outcome_and_reads_the_sms_log(
    browser_as: Callable[[str], Browser],
    stack: Stack,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    notification, smsc = serve_notification(stack, tmp_path_factory.mktemp("notification"))
    app, number = uuid4(), f"+62812{random.randrange(10**7):07d}"
    stack.run(notification.publish(accepted(app, number), ready(app, wib(6, 10))))
    stack.run(wait_for(lambda: texts(smsc, number), what="the card-ready SMS"))
    stack.run(notification.tick(wib(7, 10)))
    stack.run(notification.tick(wib(9, 10)))
    (call,) = stack.run(notification.calls())

    caller = browser_as("caller.tempeh")
    caller.go("/caller")
    caller.wait().until(lambda d: number in text_of(d, "calls"))
    assert caller.check("caller-calls") == []
    caller.find(f"[id='outcome-{call['id']}'] option[value='no_answer']").click()
    press_fresh(caller, f"[id='save-{call['id']}']")
    assert "Tidak diangkat" in caller.text("#recorded")
    # the stage closed that call (its next contact is a new one)
    assert call["id"] not in [c["id"] for c in stack.run(notification.calls())]

    caller.go("/caller/sms")
    caller.wait().until(lambda d: "Terkirim" in text_of(d, "sms"))
    assert str(app)[:8] in text_of(caller.driver, "sms")
    assert caller.check("caller-sms") == []


def test_a_page_whose_stage_is_restarting_says_so_and_comes_back_by_itself(
    browser_as: Callable[[str], Browser],
    stack: Stack,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # notification is down (killed, its supervisor not done restarting it) past the calls'
    # own retries: the page says why and reloads itself until the stage answers again
    stack.point(notification_url=f"http://127.0.0.1:{free_port()}")
    caller = browser_as("caller.tempeh")
    caller.go("/caller")
    assert "dimulai ulang" in caller.text("#error-message")
    assert caller.find("#error-message").get_attribute("data-come-back") == str(RELOAD_S)
    assert caller.check("caller-stage-restarting") == []
    serve_notification(stack, tmp_path_factory.mktemp("notification"))  # back, on a new port
    caller.wait().until(lambda d: d.find_elements(By.ID, "calls"))
    assert caller.path() == "/caller"
