"""A real browser (Debian's chromium through chromedriver) on the console: log in through the
IdP's own page, type and press keys, run axe-core on a screen and keep its screenshot."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("TUNTAS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TUNTAS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
# TUNTAS_CONSOLE_SHOTS=docs/console saves a screenshot of each checked screen there.
SHOTS = os.environ.get("TUNTAS_CONSOLE_SHOTS")
WAIT_S = 30


def chromium(width: int = 1366, height: int = 768) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--lang=id")
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


class Browser:
    def __init__(self, base: str, driver: webdriver.Chrome) -> None:
        self.base = base
        self.driver = driver

    def wait(self, timeout_s: float = WAIT_S) -> WebDriverWait[webdriver.Chrome]:
        # A condition read while a page is replaced may hold an element of the old one.
        return WebDriverWait(
            self.driver, timeout_s, ignored_exceptions=[StaleElementReferenceException]
        )

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str) -> WebElement:
        return self.wait().until(seen.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text(self, css: str) -> str:
        return self.find(css).text

    def shows(self, css: str, words: str) -> None:
        """Wait until ``css`` shows ``words``, read in one script each time: a page being
        replaced (a language switch reloads it) leaves no element handle to go stale."""
        script = "var e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
        self.wait().until(lambda d: words in str(d.execute_script(script, css)))

    def path(self) -> str:
        return str(self.driver.current_url).removeprefix(self.base)

    def at(self, path_start: str) -> None:
        try:
            self.wait().until(lambda d: str(d.current_url).startswith(self.base + path_start))
        except TimeoutException:
            page = self.find("body").text[:500]
            raise AssertionError(
                f"not at {path_start}: {self.driver.current_url} {page!r}"
            ) from None

    def press(self, css: str) -> None:
        """Activate a link or button from the keyboard (focus, then Enter)."""
        self.find(css).send_keys(Keys.ENTER)

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def type_date(self, css: str, day: date) -> None:
        """Into a date input, in the order of the browser's locale (headless: en-US)."""
        parts = self.driver.execute_script(
            "return new Intl.DateTimeFormat(navigator.language)"
            ".formatToParts(new Date(2001, 1, 3)).map(function (p) { return p.type; })"
            ".filter(function (t) { return t !== 'literal'; });"
        )
        text = {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": str(day.year)}
        self.find(css).send_keys("".join(text[p] for p in parts))

    def login(self, username: str, next_path: str = "/") -> None:
        """Through the console's login page and the IdP's form, back to ``next_path``."""
        self.go(f"/login?next={next_path}")
        self.press("#login")
        self.log_in_at_idp(username)
        self.at(next_path)

    def log_in_at_idp(self, username: str) -> None:
        self.wait().until(lambda d: d.find_elements(By.ID, "username"))
        self.type("#username", username)
        self.type("#password", username)  # the local realm's demo password
        self.find("#password").send_keys(Keys.ENTER)

    def cookies(self) -> dict[str, str]:
        return {c["name"]: c["value"] for c in self.driver.get_cookies()}

    def fetch(self, path: str) -> httpx.Response:
        """A GET with this browser's session (PDFs, which the browser would download)."""
        return httpx.get(self.base + path, cookies=self.cookies(), timeout=30)

    def check(self, name: str) -> list[dict[str, Any]]:
        """axe-core on the page as it is; its serious or critical violations (none expected).
        Keeps a screenshot as ``<name>.png`` when asked to (``TUNTAS_CONSOLE_SHOTS``)."""
        self.find("main")
        script = AXE + (
            "\nvar done = arguments[arguments.length - 1];"
            "var rules = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];"
            "axe.run(document, {runOnly: rules}).then("
            "  function (r) { done(r.violations); },"
            "  function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e)}]); });"
        )
        self.driver.set_script_timeout(60)
        violations: list[dict[str, Any]] = self.driver.execute_async_script(script)
        if SHOTS:
            folder = Path(SHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(folder / f"{name}.png"))
        return [
            {
                "id": v["id"],
                "impact": v.get("impact"),
                "nodes": [n.get("target") for n in v.get("nodes", [])][:5],
            }
            for v in violations
            if v.get("impact") in ("serious", "critical")
        ]


@contextlib.contextmanager
def logged_in(base: str) -> Iterator[Callable[[str], Browser]]:
    """``open_as("desk.tempeh")``: that user's browser on the console at ``base``, logged in
    once and kept until the block ends."""
    opened: dict[str, Browser] = {}

    def open_as(username: str) -> Browser:
        if username not in opened:
            browser = Browser(base, chromium())
            browser.login(username)
            opened[username] = browser
        return opened[username]

    try:
        yield open_as
    finally:
        for browser in opened.values():
            browser.driver.quit()
