"""Step 3 back (send-back, correction, rejection) and steps 7-8 (handover), over real Kafka."""

from __future__ import annotations

from typing import Any

from schemas.events import (
    ApplicationRejected,
    ApplicationSentBack,
    BiometricsSkipped,
    CardActivated,
    CardReadyForCollection,
    ClaimCheck,
    SendBackReason,
)
from schemas.samples import TEMPEH
from tests.intake.kit import NIK, OTHER_NIK, PNG, Desk, b64, new_card_file
from tests.kit.payloads import envelope
from tests.waiting import wait_for


async def _submit(desk: Desk, **changes: Any) -> dict[str, Any]:
    response = await desk.client.post("/applications", json=new_card_file(**changes))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _state(desk: Desk, app_id: str) -> str:
    return str((await desk.client.get(f"/applications/{app_id}")).json()["state"])


async def test_sent_back_file_is_corrected_and_resubmitted_as_revision_2(desk: Desk) -> None:
    receipt = await _submit(desk)
    app_id = receipt["application_id"]
    reason = SendBackReason(
        code="address_mismatch", path="applicant.address.rt", note="RT tidak sesuai dengan KK"
    )
    sent_back = envelope(
        ApplicationSentBack(revision=1, reasons=(reason,), officer_id="kasi.tempeh"), app_id
    )
    await desk.produce(desk.topics.validation_events, [sent_back, sent_back])  # and a duplicate

    async def queue() -> list[dict[str, Any]]:
        response = await desk.client.get("/corrections", params={"kecamatan": TEMPEH})
        return list(response.json())

    items = await wait_for(queue, what="the file in the correction queue")
    assert [i["application_id"] for i in items] == [app_id]
    assert items[0]["reasons"][0]["note"] == "RT tidak sesuai dengan KK"

    corrected = new_card_file()
    del corrected["kecamatan"], corrected["kk_scan"]  # the scan handed in before is kept
    corrected["applicant"]["address"]["rt"] = "003"
    response = await desk.client.put(f"/applications/{app_id}", json=corrected)
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
    assert response.json()["tracking_number"] == receipt["tracking_number"]
    assert (await desk.client.get("/corrections", params={"kecamatan": TEMPEH})).json() == []
    again = await desk.client.put(f"/applications/{app_id}", json=corrected)
    assert again.status_code == 409
    assert again.json()["detail"][0]["code"] == "not_awaiting_correction"

    events = await desk.published(2)
    assert [(e.type, e.payload.revision) for e in events] == [  # type: ignore[attr-defined]
        ("application.accepted", 1),
        ("application.accepted", 2),
    ]
    assert events[1].payload.applicant.address.rt == "003"  # type: ignore[attr-defined]

    # A stale send-back (revision 1) no longer applies; a rejection of revision 2 closes it.
    rejected = envelope(
        ApplicationRejected(
            revision=2, reason_code="forged_document", reason="KK palsu", officer_id="kasi.tempeh"
        ),
        app_id,
    )
    await desk.produce(desk.topics.validation_events, [sent_back, rejected])
    await wait_for(lambda: _is(desk, app_id, "rejected"), what="the rejection")
    # The NIK is free again.
    assert (await desk.client.post("/applications", json=new_card_file())).status_code == 201


async def _is(desk: Desk, app_id: str, state: str) -> bool:
    return await _state(desk, app_id) == state


async def test_handover_only_activated_with_signed_receipt_and_matching_nik(desk: Desk) -> None:
    receipt = await _submit(desk)
    app_id = receipt["application_id"]
    url = f"/applications/{app_id}/handover"
    signed = {"image_base64": b64(PNG), "content_type": "image/png"}
    ok = {"officer_id": "petugas.tempeh.01", "presented_nik": NIK, "signed_receipt": signed}

    early = await desk.client.post(url, json=ok)
    assert early.status_code == 409
    assert early.json()["detail"][0]["code"] == "card_not_activated"

    ready = envelope(CardReadyForCollection(storage_place="Lemari A, rak 3"), app_id)
    await desk.produce(desk.topics.card_production_events, [ready])

    async def waiting() -> list[dict[str, Any]]:
        return list((await desk.client.get("/handover", params={"kecamatan": TEMPEH})).json())

    items = await wait_for(waiting, what="the card in the handover queue")
    assert items[0]["storage_place"] == "Lemari A, rak 3"
    assert items[0]["activated"] is False
    not_active = await desk.client.post(url, json=ok)
    assert not_active.status_code == 409
    assert "belum diaktivasi" in not_active.json()["message_id"]

    stored = await desk.client.post(
        f"/applications/{app_id}/store", json={"officer_id": "petugas.tempeh.01"}
    )
    assert stored.status_code == 200, stored.text
    # a retry after a lost answer (the large chaos day, defect 36): the same answer, no refusal
    # and no second event
    events = "SELECT count(*) FROM outbox WHERE key = $1"
    before = await desk.scalar(events, app_id)
    again = await desk.client.post(
        f"/applications/{app_id}/store", json={"officer_id": "petugas.tempeh.01"}
    )
    assert again.status_code == 200, again.text
    assert again.json() == stored.json()
    assert await desk.scalar(events, app_id) == before

    activated = envelope(
        CardActivated(chip_serial="04A1B2C3D4E5F6", officer_id="petugas.tempeh.01"), app_id
    )
    await desk.produce(desk.topics.card_production_events, [activated])
    await wait_for(lambda: _is(desk, app_id, "activated"), what="the activation")

    without = await desk.client.post(url, json={**ok, "signed_receipt": None})
    assert without.status_code == 422
    assert without.json()["detail"][0]["code"] == "missing_signed_receipt"
    empty = await desk.client.post(url, json={**ok, "signed_receipt": {}})
    assert empty.status_code == 422
    someone_else = await desk.client.post(url, json={**ok, "presented_nik": OTHER_NIK})
    assert someone_else.status_code == 422
    assert someone_else.json()["detail"][0]["path"] == "presented_nik"
    not_an_image = await desk.client.post(
        url, json={**ok, "signed_receipt": {"image_base64": b64(b"GIF89a....")}}
    )
    assert not_an_image.status_code == 415

    done = await desk.client.post(url, json=ok)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "collected"
    assert done.json()["receipt_reference"] == f"TT-{receipt['tracking_number']}"
    twice = await desk.client.post(url, json=ok)
    assert twice.status_code == 409
    assert twice.json()["detail"][0]["code"] == "already_collected"

    events = await desk.published(3)
    assert [e.type for e in events] == [
        "application.accepted",
        "card.stored_uncollected",
        "card.collected",
    ]
    assert (await desk.client.get("/handover", params={"kecamatan": TEMPEH})).json() == []
    # Collected: the NIK may apply again (e.g. a later loss).
    assert (await desk.client.post("/applications", json=new_card_file())).status_code == 201


async def test_public_status_shows_no_personal_data(desk: Desk) -> None:
    receipt = await _submit(desk)
    response = await desk.client.get(f"/status/{receipt['tracking_number']}")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "accepted"
    assert body["state_label"] == "Berkas diterima lengkap"
    assert body["office"] == {"kecamatan": TEMPEH, "name": "Tempeh"}
    assert body["deadline"] == receipt["deadline"]
    text = response.text
    assert NIK not in text
    assert "Siti" not in text
    assert "3508050101100003" not in text  # nor the KK number
    missing = await desk.client.get("/status/350805-20200101-9999")
    assert missing.status_code == 404
    bad = await desk.client.get("/status/nope")
    assert bad.status_code == 422


async def test_cancel_frees_the_nik_and_is_refused_twice(desk: Desk) -> None:
    receipt = await _submit(desk)
    url = f"/applications/{receipt['application_id']}/cancel"
    body = {"officer_id": "petugas.tempeh.01", "reason": "Pemohon membatalkan"}
    first = await desk.client.post(url, json=body)
    assert first.status_code == 200, first.text
    again = await desk.client.post(url, json=body)
    assert again.status_code == 409
    assert again.json()["detail"][0]["code"] == "not_cancellable"
    assert (await desk.client.post("/applications", json=new_card_file())).status_code == 201
    events = await desk.published(3)
    # one application's events share a partition (ordered); the two applications' do not
    first_app = [e.type for e in events if str(e.correlation_id) == receipt["application_id"]]
    assert first_app == ["application.accepted", "application.cancelled"]
    assert sorted(e.type for e in events) == [
        "application.accepted",
        "application.accepted",
        "application.cancelled",
    ]


async def test_late_news_of_an_earlier_stage_does_not_move_a_ready_card_back(
    desk: Desk,
) -> None:
    """Defect 39: the desk reads three stages' topics, and the large chaos day had a card
    reported ready before the news that its biometrics were skipped; the late news moved the
    application back to ``biometrics_skipped`` and the card was never handed over."""
    receipt = await _submit(desk)
    app_id = receipt["application_id"]
    ready = envelope(CardReadyForCollection(storage_place="Lemari B, rak 1"), app_id)
    await desk.produce(desk.topics.card_production_events, [ready])
    await wait_for(lambda: _is(desk, app_id, "ready_for_collection"), what="the ready card")

    existing = ClaimCheck(store="biometric.records", key="rec/1", sha256="0" * 64)
    late = envelope(BiometricsSkipped(existing_record=existing), app_id)
    await desk.produce(desk.topics.biometric_events, [late])
    heard = "SELECT count(*) FROM application_history WHERE application_id = $1 AND state = $2"
    await wait_for(lambda: _heard(desk, heard, app_id), what="the late news consumed")
    assert await _state(desk, app_id) == "ready_for_collection"
    queue = (await desk.client.get("/handover", params={"kecamatan": TEMPEH})).json()
    assert [i["application_id"] for i in queue] == [app_id]


async def _heard(desk: Desk, sql: str, app_id: str) -> bool:
    return bool(await desk.scalar(sql, app_id, "biometrics.skipped"))
