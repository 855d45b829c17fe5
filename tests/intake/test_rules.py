"""The desk's pure rules, without Kafka or a database."""

from __future__ import annotations

from datetime import date

from schemas.application import ApplicationType
from schemas.events import ApplicationAccepted
from schemas.states import ApplicationState
from services.intake import rules
from tests.intake.kit import PDF, PNG, b64


def test_tracking_numbers_fit_the_event_contract() -> None:
    number = rules.tracking_number("350805", date(2026, 11, 24), 7)
    assert number == "350805-20261124-0007"
    assert rules.TRACKING_NUMBER.fullmatch(number)
    assert rules.tracking_number("350805", date(2026, 11, 24), 12345).endswith("-12345")
    pattern = ApplicationAccepted.model_fields["tracking_number"].metadata[0].pattern
    assert pattern == r"^[A-Z0-9-]{6,32}$"


def test_uploads_are_sniffed_and_bounded() -> None:
    assert rules.check_upload(PDF, "application/pdf", max_bytes=1000) == rules.PDF
    assert rules.check_upload(PNG, None, max_bytes=1000) == rules.PNG
    assert rules.check_upload(b"\xff\xd8\xff\xe0rest", "image/jpg", max_bytes=1000) == rules.JPEG
    too_big = rules.check_upload(PDF, None, max_bytes=10)
    assert isinstance(too_big, rules.UploadRefusal)
    assert too_big.status == 413
    wrong = rules.check_upload(b"GIF89a", "image/gif", max_bytes=1000)
    assert isinstance(wrong, rules.UploadRefusal)
    assert wrong.status == 415
    liar = rules.check_upload(PNG, "application/pdf", max_bytes=1000)
    assert isinstance(liar, rules.UploadRefusal)
    assert liar.code == "upload_type_mismatch"


def test_base64_is_strict_and_bounded_before_decoding() -> None:
    assert rules.decode_base64(b64(PDF), max_bytes=1000) == PDF
    assert rules.decode_base64("data:application/pdf;base64," + b64(PDF), max_bytes=1000) == PDF
    assert isinstance(rules.decode_base64("***", max_bytes=1000), rules.UploadRefusal)
    big = rules.decode_base64("A" * 10_000, max_bytes=1000)
    assert isinstance(big, rules.UploadRefusal)
    assert big.status == 413


def test_unstorable_text_names_the_field() -> None:
    problems = rules.unstorable_text({"applicant": {"name": "Siti\x00", "ok": "fine"}})
    assert [p.path for p in problems] == ["applicant.name"]
    assert rules.unstorable_text({"a": ["x", "\ud800"]})[0].path == "a.1"


def test_every_state_has_an_indonesian_label_and_checklists_follow_the_matrix() -> None:
    assert set(rules.STATE_LABELS_ID) == set(ApplicationState)
    assert [r["code"] for r in rules.checklist(ApplicationType.LOST)] == [
        "police_loss_report",
        "kk_photocopy",
    ]


def test_news_from_behind_the_desks_step_is_late_and_card_events_never_are() -> None:
    S = ApplicationState
    assert rules.is_late(S.READY_FOR_COLLECTION, "biometrics.skipped")
    assert rules.is_late(S.ENCODED, "biometrics.recorded")
    assert rules.is_late(S.BIOMETRICS_SKIPPED, "application.validated")
    assert rules.is_late(S.BIOMETRICS_RECORDED, "biometrics.capture_queued")
    assert not rules.is_late(S.ACCEPTED, "biometrics.skipped")  # validation's news still due
    assert not rules.is_late(S.ACCEPTED, "application.sent_back")
    assert not rules.is_late(S.DUPLICATE_SUSPECTED, "biometrics.duplicate_confirmed")
    assert not rules.is_late(S.VALIDATED, "card.ready_for_collection")
    # The station's own events keep their order: a spoiled card goes back to the queue.
    assert not rules.is_late(S.SPOILED, "card.queued_for_printing")
    assert not rules.is_late(S.ACTIVATED, "card.spoiled")
