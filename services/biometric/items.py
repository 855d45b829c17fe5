"""What a recording station captures: the items (ten fingers, two irises, face, signature),
the artefact shape the quality gates expect, and one capture as the devices deliver it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FINGER_PPI = 500  # ISO/IEC 19794-4 plain impressions
FACE_SIZE = (480, 640)  # ICAO 9303 minimum-ish, 3:4 portrait
IRIS_SIZE = (640, 480)  # ISO/IEC 19794-6 rectilinear image


class Finger(StrEnum):
    """Finger positions in ISO/IEC 19794-4 code order (1 = right thumb … 10 = left little)."""

    RIGHT_THUMB = "right_thumb"
    RIGHT_INDEX = "right_index"
    RIGHT_MIDDLE = "right_middle"
    RIGHT_RING = "right_ring"
    RIGHT_LITTLE = "right_little"
    LEFT_THUMB = "left_thumb"
    LEFT_INDEX = "left_index"
    LEFT_MIDDLE = "left_middle"
    LEFT_RING = "left_ring"
    LEFT_LITTLE = "left_little"

    @property
    def item(self) -> str:
        return f"finger.{self.value}"


class Eye(StrEnum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def item(self) -> str:
        return f"iris.{self.value}"


FACE = "face"
SIGNATURE = "signature"
ALL_ITEMS: tuple[str, ...] = (
    *(f.item for f in Finger),
    *(e.item for e in Eye),
    FACE,
    SIGNATURE,
)


def finger_of(item: str) -> Finger | None:
    """The finger an item kind names (`finger.right_thumb`), or None for other items."""
    prefix, _, rest = item.partition(".")
    if prefix != "finger":
        return None
    try:
        return Finger(rest)
    except ValueError:
        return None


@dataclass(frozen=True)
class Capture:
    """One captured artefact as the device delivers it."""

    item: str
    data: bytes
    media_type: str  # image/png or image/jpeg
    quality: int  # device-reported score 0..100 (NFIQ 2 for fingers; vendor scores otherwise)

    def __repr__(self) -> str:  # keep biometric bytes out of logs and tracebacks
        return (
            f"Capture(item={self.item!r}, media_type={self.media_type!r}, "
            f"quality={self.quality}, bytes={len(self.data)})"
        )
