"""The console's browser tests: one stack (intake, validation, the console) and one logged-in
browser per staff user for the whole folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.console.browser import Browser, logged_in
from tests.console.full_stack import full_browser_as, full_stack  # noqa: F401 (fixtures)
from tests.console.stack import Stack


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, pg_dsn: str, oidc_issuer: str) -> Iterator[Stack]:
    before = os.environ.get("TUNTAS_OIDC_ISSUER")
    os.environ["TUNTAS_OIDC_ISSUER"] = oidc_issuer  # the stages and the console verify tokens
    served = Stack(kafka_bootstrap, pg_dsn, oidc_issuer)
    try:
        served.start()
        yield served
    finally:
        served.stop()
        if before is None:
            os.environ.pop("TUNTAS_OIDC_ISSUER", None)
        else:
            os.environ["TUNTAS_OIDC_ISSUER"] = before


@pytest.fixture(scope="session")
def browser_as(stack: Stack) -> Iterator[Callable[[str], Browser]]:
    """``browser_as("desk.tempeh")``: that user's browser, logged in once and kept."""
    with logged_in(stack.console_url) as open_as:
        yield open_as
