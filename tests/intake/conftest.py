from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.intake.kit import Desk, running, settings_for


@pytest.fixture
async def desk(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, oidc_env: str
) -> AsyncIterator[Desk]:
    settings = settings_for(kafka_bootstrap, pg_dsn, db_schema, topic_prefix)
    async with running(settings, oidc_env) as d:
        yield d
