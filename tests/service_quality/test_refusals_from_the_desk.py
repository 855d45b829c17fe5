"""The monthly report's refusals come from the desk itself: a file refused at intake is counted
by reason in that month's report (intake and this stage running, over the real topics)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from schemas.events import ApplicationRefused
from schemas.samples import TEMPEH
from tests.intake.kit import new_card_file, settings_for
from tests.intake.kit import running as intake_running
from tests.service_quality.kit import running
from tests.waiting import wait_for


@pytest.fixture
async def intake_schema(pg_dsn: str, db_schema: str) -> AsyncIterator[str]:
    """The intake stage's own schema beside this stage's (each stage migrates its own)."""
    name = f"{db_schema}_intake"
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        yield name
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def test_a_refusal_at_the_desk_is_counted_by_reason_in_the_monthly_report(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    intake_schema: str,
    topic_prefix: str,
    oidc_env: str,
    tmp_path: Path,
) -> None:
    settings = settings_for(kafka_bootstrap, pg_dsn, intake_schema, topic_prefix)
    async with (
        intake_running(settings, oidc_env) as desk,
        running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path) as sq,
    ):
        lost = new_card_file(application_type="lost", documents={}, kk_scan=None)
        no_scan = new_card_file(kk_scan=None)
        for body in (lost, no_scan, no_scan):
            assert (await desk.client.post("/applications", json=body)).status_code == 422

        # counted directly from the topic
        events = await desk.published(3)
        assert {e.type for e in events} == {"application.refused"}
        by_reason = Counter(
            code
            for e in events
            if isinstance(e.payload, ApplicationRefused)
            for code in e.payload.problem_codes
        )
        assert by_reason == {"missing_police_report": 1, "missing_kk_photocopy": 1,
                             "missing_kk_scan": 2}  # fmt: skip
        month = events[0].occurred_at.astimezone(sq.settings.office_hours.zone).strftime("%Y-%m")

        async def report() -> dict[str, Any]:
            params = {"month": month, "kecamatan": TEMPEH}
            answer = await sq.served.http.get("/reports/monthly", params=params)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        async def counted() -> bool:
            return sum((await report())["refusals_by_reason"].values()) == by_reason.total()

        await wait_for(counted, timeout=60, what="the desk's refusals in the report")
        figures = await report()
        assert figures["refusals_by_reason"] == dict(by_reason)
        assert figures["per_kecamatan"][TEMPEH]["refused"] == 3
        assert figures["applications_by_type"] == {}  # a refused file is no application
        csv = await sq.served.http.get(
            "/reports/monthly", params={"month": month, "kecamatan": TEMPEH, "format": "csv"}
        )
        assert "refusals,missing_kk_scan,2" in csv.text
