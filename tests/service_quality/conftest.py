"""The service quality stage verifies staff tokens: every test here gets the session's IdP."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _identity_provider(oidc_env: str) -> str:
    return oidc_env
