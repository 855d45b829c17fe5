"""The screens fit an office PC (1366×768) and a tablet (portrait and landscape): nothing wider
than the window (no sideways scrolling), the menu and each page's main action inside it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.console.browser import Browser

SIZES = {"office PC": (1366, 768), "tablet portrait": (800, 1280), "tablet landscape": (1280, 800)}
# (user, path, the page's main action)
SCREENS = [
    ("desk.tempeh", "/", "nav a"),
    ("desk.tempeh", "/desk/new?type=new", "form [type=submit]"),
    ("desk.tempeh", "/desk/handover", "form [type=submit]"),
    ("kasi.tempeh", "/kasi", "nav a"),
    ("camat.tempeh", "/dashboard", "nav a"),
]
_OVERFLOW = """
const width = window.innerWidth;
const wide = [...document.querySelectorAll('body *')]
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className);
return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5)};
"""


@pytest.mark.parametrize("size", SIZES)
def test_screens_fit_the_window(browser_as: Callable[[str], Browser], size: str) -> None:
    width, height = SIZES[size]
    for user, path, action in SCREENS:
        browser = browser_as(user)
        browser.driver.set_window_size(width, height)
        browser.go(path)
        main = browser.find(action)
        fit = browser.driver.execute_script(_OVERFLOW)
        assert fit["scroll"] <= fit["width"], (size, path, fit)
        rect = main.rect
        assert rect["x"] >= 0 and rect["x"] + rect["width"] <= fit["width"], (size, path, rect)
