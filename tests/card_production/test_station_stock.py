"""Blank stock: out of blanks ⇒ waiting (certificate on request), replenished ⇒ resumed in
priority order; and a station never sees another kecamatan's print work."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from pypdf import PdfReader

from schemas.events import PrintPriority
from services.card_production import store
from tests.card_production.biometric_stub import BiometricStub
from tests.card_production.hardware_fixtures import ChipSlot, PdfQueue
from tests.card_production.station_support import (
    PASRUJAMBE,
    TEMPEH,
    print_ready,
    produce,
    station,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the station verifies tokens


async def test_out_of_blanks_then_replenished_in_priority_order(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
) -> None:  # fmt: skip
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric, low_stock_threshold=2,
    ) as st:  # fmt: skip
        replacement = print_ready(priority=PrintPriority.REPLACEMENT, nik="3508051203900002")
        new_1 = print_ready(nik="3508054107850001")
        new_2 = print_ready(nik="3508050508070003")
        # One at a time: the three keys land on different partitions, and FIFO is by arrival
        # at the station, which Kafka does not order across partitions.
        for event in (replacement, new_1, new_2):
            await produce(kafka_bootstrap, st.topics.print_ready(TEMPEH), event)
            await wait_for(lambda e=event: st.state_is(e.correlation_id, "waiting_for_stock"),
                           what="job waiting for stock")  # fmt: skip

        issued = await st.http.post(f"/jobs/{replacement.correlation_id}/certificate",
                                    json={"officer_id": "kasi.tempeh"})  # fmt: skip
        assert issued.status_code == 201, issued.text
        cert = issued.json()
        text = PdfReader(cert["pdf_path"]).pages[0].extract_text()
        assert "SURAT KETERANGAN" in text and "3508051203900002" in text
        again = await st.http.post(f"/jobs/{replacement.correlation_id}/certificate",
                                   json={"officer_id": "kasi.tempeh"})  # fmt: skip
        assert again.status_code == 409
        pdf = await st.http.get(f"/jobs/{replacement.correlation_id}/certificate.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        waiting = (await st.http.get("/jobs", params={"state": "waiting_for_stock"})).json()
        assert [j["application_id"] for j in waiting] == [
            str(new_1.correlation_id),
            str(new_2.correlation_id),
        ]

        added = await st.http.post("/stock/batches", json={
            "batch_ref": "DO-7", "first_serial": "KTP-0098", "last_serial": "KTP-0100",
            "received_by": "operator.tempeh"})  # fmt: skip
        assert added.status_code == 201, added.text
        same = await st.http.post("/stock/batches", json={
            "batch_ref": "DO-7", "first_serial": "KTP-0098", "last_serial": "KTP-0100",
            "received_by": "operator.tempeh"})  # fmt: skip
        assert same.status_code == 200  # idempotent
        overlap = await st.http.post("/stock/batches", json={
            "batch_ref": "DO-8", "first_serial": "KTP-0100", "last_serial": "KTP-0101",
            "received_by": "operator.tempeh"})  # fmt: skip
        assert overlap.status_code == 409

        for event in (replacement, new_1, new_2):
            await wait_for(lambda e=event: st.state_is(e.correlation_id, "ready_for_collection"),
                           timeout=90, what="card produced after the delivery")  # fmt: skip
        encoded = [e.correlation_id for e in await st.events("card.encoded")]
        assert encoded == [new_1.correlation_id, new_2.correlation_id, replacement.correlation_id]
        resumed = await st.events("card.queued_for_printing")
        assert {e.payload.reason for e in resumed} == {"stock_available"}  # type: ignore[attr-defined]
        assert len(await st.events("certificate.issued")) == 1
        levels = [(e.payload.change, e.payload.reason.value)  # type: ignore[attr-defined]
                  for e in await st.events("stock.level")]  # fmt: skip
        assert levels == [(3, "delivered"), (-1, "used"), (-1, "used"), (-1, "used")]
        low = await st.events("stock.low")
        assert [e.payload.blanks_available for e in low] == [1]  # type: ignore[attr-defined]
        stock = (await st.http.get("/stock")).json()
        assert stock["blanks_available"] == 0


async def test_a_job_short_of_blanks_while_a_delivery_commits_gets_one_of_them(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
) -> None:  # fmt: skip
    """Defect 38: a delivery past its resume step but not yet committed, and a job finding
    no blank in that moment, left the job waiting for the next delivery with the new blanks
    on the shelf (6 cards of the large chaos day). The job now waits for the delivery."""
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric,
    ) as st:  # fmt: skip
        delivery = await asyncpg.connect(pg_dsn, server_settings={"search_path": db_schema})
        try:
            # What receive_batch does, held open after its resume step found nobody waiting.
            tx = delivery.transaction()
            await tx.start()
            await store.lock_stock(delivery, TEMPEH)
            await store.insert_batch(delivery, TEMPEH, "DO-9", ["KTP-0201"], "operator.tempeh")
            job = print_ready(TEMPEH)
            await produce(kafka_bootstrap, st.topics.print_ready(TEMPEH), job)

            async def out_of_stock_or_blocked() -> bool:
                # The station waits on the delivery (its stock lock is all anyone can wait
                # on), or, as before the fix, the job was marked waiting without waiting.
                blocked = await delivery.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                    delivery.get_server_pid(),
                )
                return blocked > 0 or await st.state_is(job.correlation_id, "waiting_for_stock")

            await wait_for(out_of_stock_or_blocked, what="the job short of a blank")
            await tx.commit()
        finally:
            await delivery.close()
        await wait_for(lambda: st.state_is(job.correlation_id, "ready_for_collection"),
                       timeout=90, what="the card made from the delivered blank")  # fmt: skip
        assert (await st.job(job.correlation_id))["blank_serial"] == "KTP-0201"
        assert await st.events("card.waiting_for_stock") == []


async def test_station_never_receives_another_kecamatans_job(
    chip_slot: ChipSlot, pdf_queue: PdfQueue, kafka_bootstrap: str, pg_dsn: str,
    db_schema: str, topic_prefix: str, tmp_path: Path, biometric: BiometricStub,
) -> None:  # fmt: skip
    async with station(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, tmp_path=tmp_path, slot=chip_slot, queue=pdf_queue,
        biometric=biometric,
    ) as st:  # fmt: skip
        await st.http.post(
            "/stock/batches",
            json={"batch_ref": "B", "first_serial": "S1", "last_serial": "S9", "received_by": "op"},
        )
        theirs = print_ready(PASRUJAMBE, nik="3508061203900002")
        ours = print_ready(TEMPEH)
        await produce(kafka_bootstrap, st.topics.print_ready(PASRUJAMBE), theirs)
        await produce(kafka_bootstrap, st.topics.print_ready(TEMPEH), ours)
        await wait_for(lambda: st.state_is(ours.correlation_id, "ready_for_collection"),
                       what="our card produced")  # fmt: skip
        jobs = (await st.http.get("/jobs")).json()
        assert [j["application_id"] for j in jobs] == [str(ours.correlation_id)]
        assert (await st.http.get(f"/jobs/{theirs.correlation_id}")).status_code == 404
        assert all(e.kecamatan == TEMPEH for e in await st.events())
        health = (await st.http.get("/health")).json()
        assert health["station"]["feeder"] == f"hopper:{chip_slot.hopper}"
        assert list(health["lag_by_partition"]) and all(
            ".print-ready.350805:" in name for name in health["lag_by_partition"]
        )
