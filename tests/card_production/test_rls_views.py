"""A station's jobs and stock are isolated by PostgreSQL (issue #17): with the API's office check
switched off, Kunir's card operator still reads none of Tempeh's station's jobs, blanks or
escalations through the routes' SQL, run as a login role held by row-level security."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.card_production.api import guard
from tests.card_production.biometric_stub import BiometricStub
from tests.card_production.hardware_fixtures import ChipSlot, PdfQueue
from tests.card_production.station_support import TEMPEH, print_ready, produce, station
from tests.kit.tokens import as_staff
from tests.security.service_role import service_role_dsn
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the station verifies tokens


@pytest.fixture
async def pg_dsn(components: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The station connects as a role under row-level security (not the suite's superuser)."""
    dsn: str = await service_role_dsn(components.pg_dsn, monkeypatch)
    return dsn


async def test_kunirs_card_operator_reads_no_tempeh_job_without_the_python_check(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric,
    ) as st:  # fmt: skip
        ours = print_ready(TEMPEH)
        await produce(kafka_bootstrap, st.topics.print_ready(TEMPEH), ours)
        # No blanks yet: the job waits for stock (Tempeh's card operator sees it).
        await wait_for(
            lambda: st.state_is(ours.correlation_id, "waiting_for_stock"), what="a waiting job"
        )
        added = await st.http.post(
            "/stock/batches",
            json={"batch_ref": "B", "first_serial": "S1", "last_serial": "S9", "received_by": "op"},
        )
        assert added.status_code == 201, added.text
        assert [b["batch_ref"] for b in (await st.http.get("/stock")).json()["batches"]] == ["B"]

        # Kunir's card operator, the API's office check switched off: only SQL stands between.
        monkeypatch.setattr(guard, "own_office", lambda caller, kecamatan: kecamatan)
        kunir = as_staff("card.kunir")
        jobs = await st.http.get("/jobs", headers=kunir)
        assert jobs.status_code == 200 and jobs.json() == []
        job = await st.http.get(f"/jobs/{ours.correlation_id}", headers=kunir)
        assert job.status_code == 404
        stock = (await st.http.get("/stock", headers=kunir)).json()
        assert stock["batches"] == [] and stock["blanks_available"] == 0
        escalations = await st.http.get("/escalations", headers=kunir)
        assert escalations.status_code == 200 and escalations.json() == []
        assert (await st.http.get(f"/jobs/{ours.correlation_id}")).status_code == 200
