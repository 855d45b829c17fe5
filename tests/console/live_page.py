"""Reading and pressing on a page whose live fragments may be swapped at any moment (a nudge
re-fetches them): each read is one script, each press finds its element again if it went."""

from __future__ import annotations

from typing import Any

from selenium.common.exceptions import (
    ElementNotInteractableException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.console.browser import Browser


def text_of(driver: Any, element_id: str) -> str:
    script = "var e = document.getElementById(arguments[0]); return e ? e.textContent : '';"
    return str(driver.execute_script(script, element_id))


def press_fresh(browser: Browser, css: str) -> None:
    """Focus and Enter on ``css``, looked up again when a swap took the element away."""

    def pressed(driver: Any) -> bool:
        try:
            driver.find_element(By.CSS_SELECTOR, css).send_keys(Keys.ENTER)
        except (StaleElementReferenceException, ElementNotInteractableException):
            return False
        return True

    browser.wait().until(pressed)
