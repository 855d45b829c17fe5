"""Quality gates and re-capture rules for biometric captures. Pure: no devices, no I/O.

Image checks read the delivered bytes (format, size, resolution) rather than trusting the
device; the quality score is the device's (NFIQ 2 for fingerprints).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image

from services.biometric.items import (
    FACE,
    FACE_SIZE,
    FINGER_PPI,
    IRIS_SIZE,
    SIGNATURE,
    Capture,
    finger_of,
)

# ISO/IEC 19794-4 plain impressions range from about 0.5 to 1.6 inches a side at 500 ppi
_FINGER_MIN_SIDE, _FINGER_MAX_SIDE = 250, 800
_PPI_TOLERANCE = 5
_ASPECT_TOLERANCE = 0.02
_SIGNATURE_MIN_INK = 0.002  # share of dark pixels below which the pad is considered blank


@dataclass(frozen=True)
class QualityPolicy:
    min_finger_quality: int = 40
    min_iris_quality: int = 40
    min_face_quality: int = 40
    max_attempts: int = 3


@dataclass(frozen=True)
class Finding:
    item: str
    code: str  # no_capture | format | unreadable | resolution | size | aspect | grayscale
    #            | low_quality | blank
    detail: str


class ExceptionReason(StrEnum):
    AMPUTATED = "amputated"
    BANDAGED = "bandaged"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class CaptureException:
    """An item recorded as not captured, with the reason; never replaced by a fake capture."""

    item: str
    reason: ExceptionReason
    attempts: int  # 0 when declared by the operator without trying


class Action(StrEnum):
    ACCEPT = "accept"
    RECAPTURE = "recapture"
    GIVE_UP = "give_up"


def next_action(findings: Sequence[Finding], attempt: int, policy: QualityPolicy) -> Action:
    """After capture number `attempt` (1-based) produced `findings`, what to do next."""
    if not findings:
        return Action.ACCEPT
    return Action.RECAPTURE if attempt < policy.max_attempts else Action.GIVE_UP


def may_be_excepted(item: str) -> bool:
    """Fingers and irises may be recorded as exceptions; a card needs the face and signature."""
    return finger_of(item) is not None or item.startswith("iris.")


def check_capture(item: str, capture: Capture | None, policy: QualityPolicy) -> list[Finding]:
    """All findings against one capture of `item`; an empty list means it passes."""
    return inspect(item, capture, policy)[0]


def inspect(
    item: str, capture: Capture | None, policy: QualityPolicy
) -> tuple[list[Finding], Image.Image | None]:
    """The findings and the decoded image (None if nothing could be decoded), so that the
    fingerprint template is extracted from the image the checks decoded (decoding a print
    costs as much as a third of its template)."""
    if capture is None:
        return [Finding(item, "no_capture", "the device detected nothing")], None
    if capture.item != item:
        return [Finding(item, "format", f"device delivered {capture.item}, expected {item}")], None
    try:
        image = Image.open(io.BytesIO(capture.data))
        image.load()
    except Exception as exc:  # Pillow raises several unrelated types for bad input
        return [Finding(item, "unreadable", f"not a readable image: {type(exc).__name__}")], None
    if finger_of(item) is not None:
        return _fingerprint(item, capture, image, policy), image
    if item.startswith("iris."):
        return _iris(item, capture, image, policy), image
    if item == FACE:
        return _face(capture, image, policy), image
    if item == SIGNATURE:
        return _signature(image), image
    return [Finding(item, "format", "unknown item kind")], image


def _fingerprint(
    item: str, capture: Capture, image: Image.Image, policy: QualityPolicy
) -> list[Finding]:
    out: list[Finding] = []
    if image.format != "PNG":
        out.append(Finding(item, "format", f"expected PNG, got {image.format}"))
    if image.mode != "L":
        out.append(Finding(item, "grayscale", f"expected 8-bit grayscale, got mode {image.mode}"))
    dpi = image.info.get("dpi")
    if not dpi or any(abs(float(d) - FINGER_PPI) > _PPI_TOLERANCE for d in dpi):
        out.append(Finding(item, "resolution", f"expected {FINGER_PPI} ppi, got {dpi}"))
    w, h = image.size
    if not (
        _FINGER_MIN_SIDE <= w <= _FINGER_MAX_SIDE and _FINGER_MIN_SIDE <= h <= _FINGER_MAX_SIDE
    ):
        out.append(
            Finding(item, "size", f"{w}×{h} outside {_FINGER_MIN_SIDE}..{_FINGER_MAX_SIDE} px")
        )
    return out + _below_minimum(item, capture, policy.min_finger_quality)


def _iris(item: str, capture: Capture, image: Image.Image, policy: QualityPolicy) -> list[Finding]:
    out: list[Finding] = []
    if image.mode != "L":
        out.append(Finding(item, "grayscale", f"expected 8-bit grayscale, got mode {image.mode}"))
    if image.size != IRIS_SIZE:
        out.append(
            Finding(item, "size", f"expected {IRIS_SIZE[0]}×{IRIS_SIZE[1]}, got {image.size}")
        )
    return out + _below_minimum(item, capture, policy.min_iris_quality)


def _face(capture: Capture, image: Image.Image, policy: QualityPolicy) -> list[Finding]:
    out: list[Finding] = []
    if image.format != "JPEG":
        out.append(Finding(FACE, "format", f"expected JPEG, got {image.format}"))
    w, h = image.size
    min_w, min_h = FACE_SIZE
    if w < min_w or h < min_h:
        out.append(Finding(FACE, "size", f"{w}×{h} smaller than {min_w}×{min_h}"))
    if abs(w / h - 3 / 4) > _ASPECT_TOLERANCE:
        out.append(Finding(FACE, "aspect", f"{w}×{h} is not 3:4 portrait"))
    return out + _below_minimum(FACE, capture, policy.min_face_quality)


def _below_minimum(item: str, capture: Capture, minimum: int) -> list[Finding]:
    """The device's own quality score against the policy's minimum for this kind of item."""
    if capture.quality < minimum:
        return [Finding(item, "low_quality", f"quality {capture.quality} < {minimum}")]
    return []


def _signature(image: Image.Image) -> list[Finding]:
    gray = image.convert("L")
    histogram = gray.histogram()
    ink = sum(histogram[:128]) / (gray.width * gray.height)
    if ink < _SIGNATURE_MIN_INK:
        return [Finding(SIGNATURE, "blank", "no signature on the pad")]
    return []
