"""Steps 1-2: a complete file gets a receipt and one event; an incomplete one gets nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from schemas.samples import TEMPEH
from tests.intake.kit import OTHER_NIK, PDF, Desk, b64, man_applicant, new_card_file


async def test_complete_file_gets_a_receipt_and_one_accepted_event(desk: Desk) -> None:
    response = await desk.client.post("/applications", json=new_card_file())
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert re.fullmatch(rf"{TEMPEH}-\d{{8}}-0001", receipt["tracking_number"])
    assert receipt["revision"] == 1
    assert receipt["office_name"] == "Tempeh"
    assert datetime.fromisoformat(receipt["deadline"]) > datetime.fromisoformat(
        receipt["received_at"]
    )
    assert [r["code"] for r in receipt["checklist"]] == ["age_17_or_ever_married", "kk_photocopy"]

    events = await desk.published(1)
    assert [e.type for e in events] == ["application.accepted"]
    event = events[0]
    assert str(event.application_id) == receipt["application_id"]
    assert event.kecamatan == TEMPEH
    assert event.payload.tracking_number == receipt["tracking_number"]  # type: ignore[attr-defined]
    assert event.payload.revision == 1  # type: ignore[attr-defined]

    second = await desk.client.post("/applications", json=new_card_file(applicant=man_applicant()))
    assert second.status_code == 201, second.text
    assert second.json()["tracking_number"].endswith("-0002")


async def test_incomplete_file_is_refused_with_the_missing_items_and_only_counted(
    desk: Desk,
) -> None:
    lost = new_card_file(application_type="lost", documents={}, kk_scan=None)
    response = await desk.client.post("/applications", json=lost)
    assert response.status_code == 422, response.text
    body = response.json()
    problems = {p["code"]: p for p in body["detail"]}
    assert set(problems) == {"missing_police_report", "missing_kk_photocopy"}
    assert problems["missing_police_report"]["message_id"] == (
        "Surat keterangan kehilangan dari kepolisian belum diserahkan"
    )
    assert problems["missing_kk_photocopy"]["loc"] == ["body", "documents", "kk_photocopy"]
    assert body["message_id"].startswith("Berkas tidak lengkap")

    # A KK photocopy declared without its scan is incomplete too.
    no_scan = await desk.client.post("/applications", json=new_card_file(kk_scan=None))
    assert no_scan.status_code == 422
    assert [p["code"] for p in no_scan.json()["detail"]] == ["missing_kk_scan"]

    # An invalid NIK and a missing document are reported together.
    applicant = man_applicant() | {"nik": "3508051203900000"}
    both = await desk.client.post(
        "/applications", json=new_card_file(applicant=applicant, documents={})
    )
    assert both.status_code == 422
    assert {p["path"] for p in both.json()["detail"]} == {
        "applicant.nik",
        "documents.kk_photocopy",
    }

    # Nothing enters the pipeline: each refusal is counted and published as such only.
    assert await desk.scalar("SELECT count(*) FROM applications") == 0
    assert await desk.scalar("SELECT count(*) FROM refusals") == 3
    assert [e.type for e in await desk.published(3)] == ["application.refused"] * 3

    # The section head reads them by reason; "since" must be a date-time, not a number of
    # seconds (pydantic would read 0.5 as 1 January 1970: the fuzzer's find).
    kasi = desk.bearer("kasi.tempeh")
    since = "2020-01-01T00:00:00+07:00"
    counted = await desk.client.get("/refusals", params={"since": since}, headers=kasi)
    assert counted.status_code == 200, counted.text
    assert counted.json()["files"] == 3
    for number in ("0.5", "1700000000"):
        refused = await desk.client.get("/refusals", params={"since": number}, headers=kasi)
        assert refused.status_code == 422, refused.text
        assert "date-time" in refused.text


async def test_idempotent_submission_creates_one_application(desk: Desk) -> None:
    headers = {"Idempotency-Key": "desk1-click-42"}
    body = new_card_file()
    first, second = await asyncio.gather(
        desk.client.post("/applications", json=body, headers=headers),
        desk.client.post("/applications", json=body, headers=headers),
    )
    assert {first.status_code, second.status_code} == {201}
    assert first.json() == second.json()
    third = await desk.client.post("/applications", json=body, headers=headers)
    assert third.json() == first.json()
    assert third.headers["Idempotent-Replayed"] == "true"
    assert await desk.scalar("SELECT count(*) FROM applications") == 1
    assert await desk.scalar("SELECT count(*) FROM outbox") == 1

    # The same key for a different request is refused.
    other = await desk.client.post(
        "/applications", json=new_card_file(applicant=man_applicant()), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["detail"][0]["code"] == "idempotency_key_reused"
    assert len(await desk.published(1)) == 1


async def test_second_active_application_for_a_nik_is_refused_naming_the_first(
    desk: Desk,
) -> None:
    first = await desk.client.post("/applications", json=new_card_file())
    assert first.status_code == 201
    number = first.json()["tracking_number"]
    lost = new_card_file(
        application_type="lost",
        documents={
            "kk_photocopy": {"kk_number": "3508050101100003"},
            "police_report": {
                "number": "SKTLK/1/2025",
                "issued_on": "2025-01-03",
                "issuing_station": "Polsek Tempeh",
            },
        },
    )
    second = await desk.client.post("/applications", json=lost)
    assert second.status_code == 409, second.text
    assert second.json()["tracking_number"] == number
    assert number in second.json()["message_id"]
    # Concurrent submissions for one NIK: exactly one wins.
    applicant = man_applicant()
    racing = await asyncio.gather(
        *(
            desk.client.post("/applications", json=new_card_file(applicant=applicant))
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in racing) == [201, 409, 409, 409]
    assert await desk.scalar("SELECT count(*) FROM applications WHERE nik = $1", OTHER_NIK) == 1


async def test_scan_by_upload_reference(desk: Desk) -> None:
    upload = await desk.client.post(
        "/uploads",
        data={"kecamatan": "35.08.05"},
        files={"file": ("kk.pdf", PDF, "application/pdf")},
    )
    assert upload.status_code == 201, upload.text
    ref = upload.json()
    assert ref["content_type"] == "application/pdf"
    body = new_card_file(kk_scan={"upload_id": ref["upload_id"]})
    response = await desk.client.post("/applications", json=body)
    assert response.status_code == 201, response.text
    unknown = new_card_file(
        applicant=man_applicant(), kk_scan={"upload_id": "00000000-0000-4000-8000-000000000000"}
    )
    missing = await desk.client.post("/applications", json=unknown)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["path"] == "kk_scan.upload_id"
    assert b64(PDF)
