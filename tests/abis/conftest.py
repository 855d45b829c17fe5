"""The ABIS's settings against the session's Kafka, PostgreSQL and IdP, in this test's schema
and gallery key folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.abis.settings import AbisSettings
from tests.kit.stage import connections

AbisSettingsFor = Callable[..., AbisSettings]


@pytest.fixture
def abis_settings(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    oidc_env: str,
) -> AbisSettingsFor:
    """``abis_settings(prefix=…, **settings)``: every instance made here shares the schema
    (one gallery) and the gallery key; the topic prefix is this test's unless given."""

    def make(prefix: str = topic_prefix, **settings: Any) -> AbisSettings:
        return AbisSettings(
            connections=connections(kafka_bootstrap, pg_dsn, prefix),
            db_schema=db_schema,
            http_port=0,
            home=str(tmp_path),
            oidc_client_secret="local-only-svc-abis",  # the local realm's ABIS client
            **settings,
        )

    return make
