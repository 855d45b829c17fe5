from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.intake.kit import Desk, running, settings_for


@pytest.fixture
async def desk(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str
) -> AsyncIterator[Desk]:
    async with running(settings_for(kafka_bootstrap, pg_dsn, db_schema, topic_prefix)) as d:
        yield d
