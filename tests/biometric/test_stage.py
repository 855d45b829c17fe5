"""The biometric stage end to end, against real Kafka and PostgreSQL, driven over HTTP."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.application import ApplicationType
from schemas.events import BiometricsRecorded, BiometricsSkipped, PrintPriority, RecordPrintReady
from services.biometric import rules
from services.biometric.crypto import parse_keyring
from services.biometric.store import save_record
from tests.biometric.conftest import enrolled
from tests.biometric.stage_kit import (
    KEC,
    OTHER_KEC,
    Stage,
    all_prefixed_records,
    running_stage,
    validated,
)
from tests.kit.payloads import nik
from tests.kit.tokens import as_staff
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port

PNG, JPEG, TOF1 = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"TOF1"


async def test_already_recorded_nik_is_skipped_straight_to_print(stage: Stage) -> None:
    holder = nik(11)
    async with stage.runtime.pool.acquire() as conn:
        saved = await save_record(
            conn,
            parse_keyring(stage.keys),
            nik=holder,
            kecamatan=KEC,
            enrolment=enrolled("lost-card-holder"),
            captured_at=datetime.now(UTC),
        )

    app_id = await stage.send_validated(validated(holder, ApplicationType.LOST))
    events = await stage.out.wait_types(app_id, "biometrics.skipped", "record.print_ready")

    assert [e.type for _, e in events] == ["biometrics.skipped", "record.print_ready"]
    skipped = events[0][1].payload
    assert isinstance(skipped, BiometricsSkipped)
    assert skipped.existing_record.key == saved.reference
    topic, ready_event = events[1]
    assert topic == stage.topics.print_ready(KEC)
    ready = ready_event.payload
    assert isinstance(ready, RecordPrintReady)
    assert ready.priority is PrintPriority.REPLACEMENT
    assert rules.record_id_of(ready.photo.key) == saved.record_id
    assert "biometrics.capture_queued" not in stage.out.types(app_id)
    queue = await stage.http.get("/queue", params={"kecamatan": KEC})
    assert queue.json() == []
    # nothing to capture: the application is not in the queue
    assert (await stage.capture(app_id)).status_code == 409


async def test_new_applicant_is_queued_captured_recorded_and_print_ready(stage: Stage) -> None:
    applicant_nik = nik(21)
    app_id = await stage.send_validated(validated(applicant_nik, ApplicationType.NEW))
    await stage.out.wait_types(app_id, "biometrics.capture_queued")
    await stage.queued(app_id)
    listed = (await stage.http.get("/queue", params={"kecamatan": "35.08.05"})).json()
    assert listed[0]["nik_masked"] == "3508********0021"
    assert applicant_nik not in str(listed)
    other_queue = await stage.http.get("/queue", params={"kecamatan": OTHER_KEC})
    assert other_queue.status_code == 403 and "nik" not in other_queue.text

    response = await stage.capture(app_id)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["state"] == "dedupe_pending" and result["fingerprints_captured"] == 10

    events = await stage.out.wait_types(app_id, "biometrics.recorded", "record.print_ready")
    assert [e.type for _, e in events] == [
        "biometrics.capture_queued",
        "biometrics.recorded",
        "record.print_ready",
    ]
    recorded = events[1][1].payload
    assert isinstance(recorded, BiometricsRecorded)
    assert recorded.operator_id == "operator.tempeh" and recorded.iris_captured
    topic, ready_event = events[2]
    assert topic == stage.topics.print_ready(KEC)
    assert ready_event.kecamatan == KEC
    ready = ready_event.payload
    assert isinstance(ready, RecordPrintReady)
    assert ready.priority is PrintPriority.FIRST_CARD
    assert ready.card.nik == applicant_nik and ready.card.name == "Siti Aminah"
    assert rules.record_id_of(ready.fingerprint_templates.key) == uuid.UUID(result["record_id"])

    # the station resolves the claim checks over HTTP
    card = await stage.http.get(
        f"/records/{result['record_id']}/card-data", params={"kecamatan": KEC}
    )
    assert card.status_code == 200, card.text
    data = card.json()
    assert base64.b64decode(data["photo"]).startswith(JPEG)
    assert data["photo_sha256"] == ready.photo.sha256
    assert data["photo_media_type"] == "image/jpeg"
    assert base64.b64decode(data["signature"]).startswith(PNG)
    assert [t["finger"] for t in data["fingerprint_templates"]] == ["right_index", "left_index"]
    assert all(
        base64.b64decode(t["template"]).startswith(TOF1) for t in data["fingerprint_templates"]
    )
    assert data["fingerprint_templates_sha256"] == ready.fingerprint_templates.sha256
    # recorded once: a second capture is refused
    assert (await stage.capture(app_id)).status_code == 409


async def test_card_data_only_for_the_station_of_the_same_kecamatan(stage: Stage) -> None:
    app_id = await stage.send_validated(validated(nik(31)))
    await stage.queued(app_id)
    record_id = (await stage.capture(app_id)).json()["record_id"]
    await stage.out.wait_types(app_id, "record.print_ready")  # the ABIS found no duplicate

    other = await stage.http.get(f"/records/{record_id}/card-data", params={"kecamatan": OTHER_KEC})
    assert other.status_code == 403
    assert "photo" not in other.json()
    unknown = await stage.http.get(
        "/records/00000000-0000-4000-8000-000000000000/card-data", params={"kecamatan": KEC}
    )
    assert unknown.status_code == 404
    staff_asks = await stage.http.get(
        f"/records/{record_id}/card-data", headers=as_staff("operator.tempeh")
    )
    assert staff_asks.status_code == 403 and "photo" not in staff_asks.text
    assert (
        await stage.http.get(f"/records/{record_id}/card-data", params={"kecamatan": KEC})
    ).status_code == 200


async def test_poor_captures_are_taken_again_and_missing_fingers_are_exceptions(
    stage: Stage,
) -> None:
    app_id = await stage.send_validated(validated(nik(41)))
    await stage.queued(app_id)

    # a blank signature pad on every attempt: nothing is stored, the applicant stays queued
    await stage.sit("poor-signature", poor_attempts={"signature": 10})
    failed = await stage.capture(app_id)
    assert failed.status_code == 422
    assert failed.json()["detail"]["item"] == "signature"
    await stage.queued(app_id)

    await stage.sit(
        "poor-captures",
        poor_attempts={"finger.right_thumb": 2, "face": 1, "iris.left": 10},
        absent=["right_middle"],
    )
    response = await stage.capture(app_id, missing_fingers={"left_little": "amputated"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["attempts"]["finger.right_thumb"] == 3
    assert result["attempts"]["face"] == 2
    assert result["attempts"]["finger.left_little"] == 0
    assert result["attempts"]["finger.right_middle"] == 3  # nothing detected, three times
    assert result["fingerprints_captured"] == 8
    assert {(e["item"], e["reason"]) for e in result["exceptions"]} == {
        ("finger.left_little", "amputated"),
        ("finger.right_middle", "unreadable"),
        ("iris.left", "unreadable"),
    }
    events = await stage.out.wait_types(app_id, "record.print_ready")
    recorded = next(e.payload for _, e in events if e.type == "biometrics.recorded")
    assert isinstance(recorded, BiometricsRecorded)
    assert recorded.fingerprints_captured == 8 and recorded.iris_captured  # the right eye

    bad = await stage.capture(app_id, missing_fingers={"sixth_finger": "amputated"})
    assert bad.status_code == 422 and "missing_fingers" in bad.json()["detail"][0]["loc"]
    # who sits at the devices is the device service's business, not the stage API's
    simulate = await stage.capture(app_id, simulate={"seed": "x"})
    assert simulate.status_code == 422 and "simulate" in simulate.json()["detail"][0]["loc"]


async def test_no_biometric_bytes_travel_on_kafka_and_logs_hold_no_full_nik(
    stage: Stage, topic_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    recorded_nik, skipped_nik = nik(61), nik(62)
    async with stage.runtime.pool.acquire() as conn:
        await save_record(
            conn,
            parse_keyring(stage.keys),
            nik=skipped_nik,
            kecamatan=KEC,
            enrolment=enrolled("earlier-holder"),
            captured_at=datetime.now(UTC),
        )
    captured = await stage.send_validated(validated(recorded_nik))
    skipped = await stage.send_validated(validated(skipped_nik, ApplicationType.DAMAGED))
    await stage.queued(captured)
    await stage.sit("nik-61", poor_attempts={"finger.left_index": 1})
    result = (await stage.capture(captured)).json()
    await stage.out.wait_types(captured, "record.print_ready")
    await stage.out.wait_types(skipped, "record.print_ready")
    card = (
        await stage.http.get(f"/records/{result['record_id']}/card-data", params={"kecamatan": KEC})
    ).json()

    # every record on every topic of this run, DLQs included
    async def everything() -> list[tuple[str, bytes | None]]:
        found = await all_prefixed_records(stage.bootstrap, topic_prefix)
        return found if len(found) >= 10 else []

    records = await wait_for(everything, what="the run's records on its topics")
    samples = [
        base64.b64decode(card["photo"])[200:232],
        base64.b64decode(card["signature"])[60:92],
        *(base64.b64decode(t["template"])[40:72] for t in card["fingerprint_templates"]),
    ]
    forbidden = [PNG, JPEG, TOF1, b"iVBORw0KGgo", b"/9j/", b"VE9GMQ", b"JFIF", b"IHDR"]
    for topic, value in records:
        assert value is not None
        for needle in forbidden + samples + [base64.b64encode(s) for s in samples]:
            assert needle not in value, f"biometric bytes on {topic}"

    lines = [r.getMessage() for r in caplog.records] + [
        str(r.exc_info[1]) for r in caplog.records if r.exc_info
    ]
    assert any("recorded application" in line for line in lines)
    assert any("already recorded" in line for line in lines)
    for line in lines:
        assert recorded_nik not in line and skipped_nik not in line, line


async def test_automatic_operator_captures_on_consume(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    device_url: str,
    oidc_env: str,
) -> None:
    async with running_stage(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        home=tmp_path,
        device_url=device_url,
        auto_capture=True,
    ) as auto:
        app_id = await auto.send_validated(validated(nik(71)))
        events = await auto.out.wait_types(app_id, "record.print_ready", timeout=60)
        assert [e.type for _, e in events] == [
            "biometrics.capture_queued",
            "biometrics.recorded",
            "record.print_ready",
        ]
        recorded = events[1][1].payload
        assert isinstance(recorded, BiometricsRecorded)
        assert recorded.operator_id == "auto.operator"
        assert (await auto.http.get("/queue", params={"kecamatan": KEC})).json() == []


async def test_unreachable_capture_devices_answer_503_and_store_nothing(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    oidc_env: str,
) -> None:
    async with running_stage(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        home=tmp_path,
        device_url=f"http://127.0.0.1:{free_port()}/{{kecamatan}}",
    ) as stage:
        app_id = await stage.send_validated(validated(nik(81)))
        await stage.queued(app_id)
        response = await stage.capture(app_id)
        assert response.status_code == 503 and "unreachable" in response.json()["detail"]
        await stage.queued(app_id)  # still waiting to be recorded
