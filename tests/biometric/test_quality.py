"""Quality gates, re-capture and exceptions, over simulated people's captures."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from schemas.fingerprint import fingerprint_template
from services.biometric.enrolment import CaptureFailed, enrol
from services.biometric.items import ALL_ITEMS, FACE, SIGNATURE, Capture, Eye, Finger
from services.biometric.quality import (
    Action,
    CaptureException,
    ExceptionReason,
    Finding,
    QualityPolicy,
    check_capture,
    next_action,
)
from tests.biometric.conftest import devices_take, rendered

POLICY = QualityPolicy()
THUMB = Finger.RIGHT_THUMB.item


def _image(mode: str, size: tuple[int, int], fmt: str, **save: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 128).save(buf, fmt, **save)
    return buf.getvalue()


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def test_simulated_good_captures_pass_every_gate() -> None:
    for item in ALL_ITEMS:
        assert check_capture(item, rendered("gate", item), POLICY) == [], item


def test_simulated_artefacts_have_the_documented_shape() -> None:
    finger = rendered("shape", Finger.LEFT_INDEX.item)
    iris = rendered("shape", Eye.LEFT.item)
    with Image.open(io.BytesIO(finger.data)) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (416, 416))
        assert round(image.info["dpi"][0]) == 500
    with Image.open(io.BytesIO(rendered("shape", FACE).data)) as image:
        assert (image.format, image.size) == ("JPEG", (480, 640))
    with Image.open(io.BytesIO(iris.data)) as image:
        assert (image.mode, image.size) == ("L", (640, 480))


def test_simulation_is_deterministic_per_seed_and_attempt() -> None:
    item = Finger.LEFT_THUMB.item
    first_a, first_b = rendered("same", item), rendered("same", item)
    second_a = rendered("same", item, 2)
    assert first_a == first_b
    assert second_a.data != first_a.data  # a re-capture is a new impression


def test_low_quality_fingerprint_is_reported_with_the_threshold() -> None:
    capture = rendered("poor", THUMB, poor=True)
    assert capture.quality < 40
    assert check_capture(THUMB, capture, POLICY) == [
        Finding(THUMB, "low_quality", f"quality {capture.quality} < 40")
    ]


def test_fingerprint_threshold_is_configurable() -> None:
    capture = rendered("strict", THUMB)
    strict = QualityPolicy(min_finger_quality=capture.quality + 1)
    assert codes(check_capture(THUMB, capture, strict)) == ["low_quality"]
    lenient = QualityPolicy(min_finger_quality=capture.quality)
    assert check_capture(THUMB, capture, lenient) == []


def test_fingerprint_format_mode_resolution_and_size_are_checked() -> None:
    jpeg_rgb = Capture(THUMB, _image("RGB", (416, 416), "JPEG"), "image/jpeg", 80)
    assert codes(check_capture(THUMB, jpeg_rgb, POLICY)) == ["format", "grayscale", "resolution"]
    tiny = Capture(THUMB, _image("L", (100, 100), "PNG", dpi=(500, 500)), "image/png", 80)
    assert codes(check_capture(THUMB, tiny, POLICY)) == ["size"]
    low_ppi = Capture(THUMB, _image("L", (416, 416), "PNG", dpi=(300, 300)), "image/png", 80)
    assert codes(check_capture(THUMB, low_ppi, POLICY)) == ["resolution"]


def test_face_size_format_and_aspect() -> None:
    small = rendered("face", FACE, poor=True)
    assert codes(check_capture(FACE, small, POLICY)) == ["size", "low_quality"]
    wide = Capture(FACE, _image("RGB", (480, 700), "JPEG"), "image/jpeg", 80)
    assert codes(check_capture(FACE, wide, POLICY)) == ["aspect"]
    png = Capture(FACE, _image("RGB", (600, 800), "PNG"), "image/png", 80)
    assert codes(check_capture(FACE, png, POLICY)) == ["format"]


def test_iris_size_and_signature_presence() -> None:
    iris = Capture(Eye.RIGHT.item, _image("L", (320, 240), "PNG"), "image/png", 80)
    assert codes(check_capture(Eye.RIGHT.item, iris, POLICY)) == ["size"]
    blank = rendered("sig", SIGNATURE, poor=True)
    assert codes(check_capture(SIGNATURE, blank, POLICY)) == ["blank"]


def test_nothing_captured_and_garbage_bytes() -> None:
    assert codes(check_capture(THUMB, None, POLICY)) == ["no_capture"]
    garbage = Capture(THUMB, b"not an image", "image/png", 90)
    assert codes(check_capture(THUMB, garbage, POLICY)) == ["unreadable"]


def test_next_action_recaptures_until_the_attempt_limit() -> None:
    finding = [Finding(THUMB, "low_quality", "x")]
    policy = QualityPolicy(max_attempts=3)
    assert next_action([], 1, policy) is Action.ACCEPT
    assert next_action([], 3, policy) is Action.ACCEPT
    assert next_action(finding, 1, policy) is Action.RECAPTURE
    assert next_action(finding, 2, policy) is Action.RECAPTURE
    assert next_action(finding, 3, policy) is Action.GIVE_UP


async def test_enrolment_recaptures_a_poor_finger_and_keeps_the_good_one() -> None:
    take = devices_take("recap", poor_attempts={THUMB: 2})
    result = await enrol(take, QualityPolicy(max_attempts=3))
    assert result.exceptions == ()
    assert result.attempts[THUMB] == 3
    thumb = next(c for c in result.captures if c.item == THUMB)
    assert thumb.quality >= 40
    assert len(result.captures) == len(ALL_ITEMS)
    assert list(result.templates) == list(Finger)
    # each template comes from the accepted capture (decoded once, for check and template)
    by_item = {c.item: c for c in result.captures}
    for finger, template in result.templates.items():
        assert template == fingerprint_template(by_item[finger.item].data), finger


async def test_unreadable_finger_becomes_an_exception_after_max_attempts() -> None:
    item = Finger.LEFT_INDEX.item
    take = devices_take("worn", poor_attempts={item: 99})
    result = await enrol(take, QualityPolicy(max_attempts=2))
    assert result.exceptions == (CaptureException(item, ExceptionReason.UNREADABLE, 2),)
    assert item not in {c.item for c in result.captures}  # never a bad or fake image
    assert Finger.LEFT_INDEX not in result.templates


async def test_absent_finger_not_declared_is_unreadable_not_faked() -> None:
    result = await enrol(devices_take("absent", absent=("right_little",)), POLICY)
    item = Finger.RIGHT_LITTLE.item
    assert result.exceptions == (CaptureException(item, ExceptionReason.UNREADABLE, 3),)
    assert item not in {c.item for c in result.captures}


@pytest.mark.parametrize("reason", [ExceptionReason.AMPUTATED, ExceptionReason.BANDAGED])
async def test_declared_missing_finger_is_recorded_without_scanning(
    reason: ExceptionReason,
) -> None:
    calls: list[str] = []
    person = devices_take("declared", absent=("left_ring",))

    async def take(item: str) -> Capture | None:
        calls.append(item)
        return await person(item)

    result = await enrol(take, POLICY, declared={Finger.LEFT_RING: reason})
    item = Finger.LEFT_RING.item
    assert result.exceptions == (CaptureException(item, reason, 0),)
    assert item not in calls
    assert result.attempts[item] == 0
    assert len(result.captures) == len(ALL_ITEMS) - 1


async def test_face_failing_every_attempt_stops_the_session() -> None:
    with pytest.raises(CaptureFailed) as failed:
        await enrol(devices_take("noface", poor_attempts={FACE: 99}), POLICY)
    assert failed.value.item == FACE
    assert codes(failed.value.findings) == ["size", "low_quality"]
