"""Production failures that no device explains: a refused card-data request is not retried,
and a job that keeps failing is escalated so the station goes on with the next one."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.card_production.biometric_stub import BiometricStub
from tests.card_production.hardware_fixtures import ChipSlot, PdfQueue
from tests.card_production.station_support import print_ready, produce, record_of, station
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the station verifies tokens

BATCH = {"batch_ref": "B1", "first_serial": "F01", "last_serial": "F05", "received_by": "op"}


async def test_forbidden_card_data_fails_the_job_at_once(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
) -> None:  # fmt: skip
    event = print_ready()
    biometric.answers[record_of(event)] = (403, b'{"detail": "not your kecamatan"}')
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric,
    ) as st:  # fmt: skip
        await st.http.post("/stock/batches", json=BATCH)
        await produce(kafka_bootstrap, st.topics.print_ready("350805"), event)
        app = event.correlation_id

        async def held() -> bool:
            answer = await st.http.get(f"/jobs/{app}")
            return answer.status_code == 200 and answer.json()["held"] is True

        await wait_for(held, what="job failed on the 403")
        job = await st.job(app)
        assert "403" in job["last_error"] and job["state"] == "queued_for_printing"
        escalations = (await st.http.get("/escalations")).json()
        assert [(e["application_id"], e["reason"]) for e in escalations] == [
            (str(app), "card_data_refused")
        ]
        assert biometric.asked == [record_of(event)]  # asked once, never again


async def test_a_job_failing_again_and_again_is_escalated_and_the_next_goes_on(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
) -> None:  # fmt: skip
    broken, fine = print_ready(), print_ready(nik="3508050508070003")
    biometric.answers[record_of(broken)] = (200, b"[]")  # not card data
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric, max_errors=3, error_retry_s=0,
    ) as st:  # fmt: skip
        await st.http.post("/stock/batches", json=BATCH)
        topic = st.topics.print_ready("350805")
        await produce(kafka_bootstrap, topic, broken)
        await wait_for(lambda: st.state_is(broken.correlation_id, "queued_for_printing"),
                       what="broken job recorded")  # fmt: skip
        await produce(kafka_bootstrap, topic, fine)
        await wait_for(lambda: st.state_is(fine.correlation_id, "ready_for_collection"),
                       timeout=90, what="the next job produced")  # fmt: skip
        job = await st.job(broken.correlation_id)
        assert job["held"] and job["errors"] == 3
        assert "BadCardData" in job["last_error"]
        assert biometric.asked.count(record_of(broken)) == 3
        escalations = (await st.http.get("/escalations")).json()
        assert [e["reason"] for e in escalations] == ["production_error"]
        alerts = (await st.http.get("/health")).json()["station"]["alerts"]
        assert any(a["kind"] == "production" and str(broken.correlation_id) in a["message"]
                   for a in alerts)  # fmt: skip


async def test_production_goes_on_after_the_database_says_it_is_starting_up(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # What a production step meets in the seconds after PostgreSQL restarts from a hard stop
    # (found by the chaos day: the loop ended on it, and the station printed nothing more).
    event = print_ready()
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric,
    ) as st:  # fmt: skip
        step = st.station._step
        refused: list[str] = []

        async def starting_up() -> bool:
            if not refused:
                refused.append("once")
                raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
            return await step()

        monkeypatch.setattr(st.station, "_step", starting_up)
        await st.http.post("/stock/batches", json=BATCH)
        await produce(kafka_bootstrap, st.topics.print_ready("350805"), event)
        await wait_for(lambda: st.state_is(event.correlation_id, "ready_for_collection"),
                       timeout=90, what="the job produced after the refusal")  # fmt: skip
        assert refused == ["once"]
        health = (await st.http.get("/health")).json()
        assert health["status"] == "ok", health


async def test_production_goes_on_after_its_listen_connection_is_cut(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
) -> None:  # fmt: skip
    # A PostgreSQL restart cuts the connection the loop LISTENs on; the pool then owns it
    # again, and the loop asking it anything raised for good (found by the small chaos day).
    event = print_ready()
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric,
    ) as st:  # fmt: skip
        channel = st.station.channel
        admin = await asyncpg.connect(pg_dsn)
        try:

            async def cut() -> int:
                return int(
                    await admin.fetchval(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE query = $1",
                        f'LISTEN "{channel}"',
                    )
                )

            assert await wait_for(cut, what="the station's LISTEN connection") == 1
        finally:
            await admin.close()
        await st.http.post("/stock/batches", json=BATCH)
        await produce(kafka_bootstrap, st.topics.print_ready("350805"), event)
        await wait_for(lambda: st.state_is(event.correlation_id, "ready_for_collection"),
                       timeout=90, what="the job produced after the cut")  # fmt: skip
        health = (await st.http.get("/health")).json()
        assert health["status"] == "ok", health
