"""Rendering the artefacts a simulated person's devices deliver: fingerprint, iris, face and
signature images, deterministic per identity and attempt.

Same identity ⇒ same person: every capture of a finger shows the same ridge pattern, shifted
and noised per attempt, as a real re-capture would be. ``poor`` renders the failed capture
(blurred, low contrast, low score; a small face photo; a blank signature pad).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageMath

FINGER_SIZE = (416, 416)  # 0.83 in square at 500 ppi: a plain (flat) impression
FINGER_PPI = 500
FACE_SIZE = (480, 640)  # ICAO 9303 minimum-ish, 3:4 portrait
IRIS_SIZE = (640, 480)  # ISO/IEC 19794-6 rectilinear image
SIGNATURE_SIZE = (600, 200)


def _png(image: Image.Image, dpi: int | None = None) -> bytes:
    buf = io.BytesIO()
    if dpi is None:
        image.save(buf, "PNG")
    else:
        image.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


# cos over one ridge period (256 steps): ridges dark, valleys light
_RIDGE_LUT = [round(127 + 120 * math.cos(2 * math.pi * i / 256)) for i in range(256)]


def fingerprint_png(identity: str, attempt: int, poor: bool) -> tuple[bytes, int]:
    """Ridges as cosine stripes of a smooth phase field (concentric ellipses + a tilt).

    The field's parameters come from the identity, so the orientation pattern is the person's;
    the attempt only shifts the finger on the platen and changes the sensor noise.
    """
    person = random.Random(identity)
    cx, cy = person.uniform(0.35, 0.65), person.uniform(0.3, 0.6)
    angle = person.uniform(0, math.pi)
    aniso = person.uniform(0.35, 0.9)
    tilt = person.uniform(-0.8, 0.8)
    period = person.uniform(8.5, 11.0)  # pixels at 500 ppi (ridge spacing ≈ 0.45 mm)
    # slow sinusoidal warps (amplitude in pixels) bend the ridges: the person-specific detail
    warps = [
        (
            person.uniform(30, 60),
            person.uniform(0, math.pi),
            person.uniform(0.015, 0.04),
            person.uniform(0, 2 * math.pi),
        )
        for _ in range(3)
    ]
    shot = random.Random(f"{identity}|{attempt}")
    dx, dy = shot.randint(-6, 6), shot.randint(-6, 6)

    # the phase is smooth, so computing it on a coarse grid and interpolating is exact enough
    w, h = FINGER_SIZE
    grid = 52
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    values: list[float] = []
    for j in range(grid):
        y = (j + 0.5) * h / grid - 0.5 - (cy * h + dy)
        for i in range(grid):
            x = (i + 0.5) * w / grid - 0.5 - (cx * w + dx)
            u, v = x * cos_a + y * sin_a, -x * sin_a + y * cos_a
            bend = sum(
                amp * math.sin(freq * (x * math.cos(dir_) + y * math.sin(dir_)) + ph)
                for amp, dir_, freq, ph in warps
            )
            values.append((math.hypot(u * aniso, v) + tilt * u + bend) / period * 256)
    phase = Image.new("F", (grid, grid))
    phase.putdata(values)
    phase = phase.resize(FINGER_SIZE, Image.Resampling.BILINEAR)
    wrapped = ImageMath.lambda_eval(lambda a: a["p"] % 256.0, p=phase)
    assert isinstance(wrapped, Image.Image)
    ridges = wrapped.convert("L").point(_RIDGE_LUT)

    # sensor noise from the seeded generator (Pillow's effect_noise is not reproducible)
    half = (w // 2, h // 2)
    noise = Image.frombytes("L", half, shot.randbytes(half[0] * half[1])).resize(FINGER_SIZE)
    ridges = Image.blend(ridges, noise, 0.45 if poor else 0.15)
    if poor:  # smudged, under-pressed impression
        ridges = ridges.filter(ImageFilter.GaussianBlur(3)).point(lambda p: 170 + p // 4)

    # the fingertip on a white platen, with a soft edge
    mask = Image.new("L", FINGER_SIZE, 0)
    ImageDraw.Draw(mask).ellipse(
        (w * 0.12 + dx, h * 0.04 + dy, w * 0.88 + dx, h * 1.1 + dy), fill=255
    )
    mask = mask.filter(ImageFilter.GaussianBlur(6))
    image = Image.composite(ridges, Image.new("L", FINGER_SIZE, 255), mask)
    quality = shot.randint(8, 30) if poor else shot.randint(55, 92)
    return _png(image, FINGER_PPI), quality


def iris_png(identity: str, attempt: int, poor: bool) -> tuple[bytes, int]:
    person = random.Random(identity)
    shot = random.Random(f"{identity}|{attempt}")
    w, h = IRIS_SIZE
    image = Image.new("L", IRIS_SIZE, 200)
    draw = ImageDraw.Draw(image)
    cx, cy = w // 2 + shot.randint(-10, 10), h // 2 + shot.randint(-8, 8)
    r_iris, r_pupil = person.randint(105, 125), person.randint(35, 50)
    draw.ellipse((cx - r_iris, cy - r_iris, cx + r_iris, cy + r_iris), fill=110)
    for _ in range(90):  # crypts and furrows: radial strokes of varying tone
        a = person.uniform(0, 2 * math.pi)
        r0, r1 = person.uniform(r_pupil, r_iris * 0.7), person.uniform(r_iris * 0.7, r_iris)
        draw.line(
            (
                cx + r0 * math.cos(a),
                cy + r0 * math.sin(a),
                cx + r1 * math.cos(a),
                cy + r1 * math.sin(a),
            ),
            fill=person.randint(60, 160),
            width=2,
        )
    draw.ellipse((cx - r_pupil, cy - r_pupil, cx + r_pupil, cy + r_pupil), fill=15)
    if poor:  # motion blur / closed eyelid
        image = image.filter(ImageFilter.GaussianBlur(8))
    quality = shot.randint(5, 30) if poor else shot.randint(60, 95)
    return _png(image), quality


def face_jpeg(identity: str, attempt: int, poor: bool) -> tuple[bytes, int]:
    person = random.Random(f"{identity}|face")
    shot = random.Random(f"{identity}|face|{attempt}")
    size = (360, 480) if poor else FACE_SIZE  # poor: the wrong camera profile, too small
    w, h = size
    image = Image.new("RGB", size, (200, 30, 40) if person.random() < 0.5 else (30, 70, 200))
    draw = ImageDraw.Draw(image)
    skin = (person.randint(150, 230), person.randint(110, 170), person.randint(80, 130))
    draw.ellipse((w * 0.25, h * 0.18, w * 0.75, h * 0.72), fill=skin)  # head
    draw.rectangle((w * 0.15, h * 0.78, w * 0.85, h), fill=(240, 240, 240))  # shirt
    eye_y = h * person.uniform(0.38, 0.42)
    for ex in (0.4, 0.6):
        draw.ellipse((w * ex - 10, eye_y - 6, w * ex + 10, eye_y + 6), fill=(40, 30, 20))
    draw.arc((w * 0.42, h * 0.55, w * 0.58, h * 0.62), 20, 160, fill=(120, 40, 40), width=3)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    quality = shot.randint(10, 35) if poor else shot.randint(60, 95)
    return buf.getvalue(), quality


def signature_png(identity: str, attempt: int, poor: bool) -> tuple[bytes, int]:
    person = random.Random(f"{identity}|signature")
    shot = random.Random(f"{identity}|signature|{attempt}")
    w, h = SIGNATURE_SIZE
    image = Image.new("L", SIGNATURE_SIZE, 255)
    if not poor:  # poor: the pen never touched the pad
        points = [(w * 0.1, h * 0.6)]
        for k in range(1, 14):
            points.append(
                (w * (0.1 + 0.8 * k / 13) + shot.uniform(-4, 4), h * person.uniform(0.2, 0.8))
            )
        ImageDraw.Draw(image).line(points, fill=0, width=3, joint="curve")
    return _png(image), (shot.randint(60, 95) if not poor else 0)


FINGERS = (
    "right_thumb",
    "right_index",
    "right_middle",
    "right_ring",
    "right_little",
    "left_thumb",
    "left_index",
    "left_middle",
    "left_ring",
    "left_little",
)  # ISO/IEC 19794-4 position order
EYES = ("left", "right")
ITEMS: tuple[str, ...] = (
    *(f"finger.{f}" for f in FINGERS),
    *(f"iris.{e}" for e in EYES),
    "face",
    "signature",
)


@dataclass(frozen=True)
class Rendered:
    item: str
    data: bytes
    media_type: str
    quality: int  # what the device reports (NFIQ 2 style for fingers, vendor score otherwise)

    def __repr__(self) -> str:  # keep image bytes out of logs
        return f"Rendered({self.item!r}, {self.media_type}, q={self.quality}, {len(self.data)} B)"


def render(seed: str, item: str, attempt: int, poor: bool = False) -> Rendered:
    """Attempt ``attempt`` (1, 2, …) at capturing ``item`` of the person ``seed``."""
    kind, _, part = item.partition(".")
    if item not in ITEMS:
        raise ValueError(f"unknown item {item!r}; items are {list(ITEMS)}")
    if kind == "finger":
        data, quality = fingerprint_png(f"{seed}|{part}", attempt, poor)
    elif kind == "iris":
        data, quality = iris_png(f"{seed}|{part}", attempt, poor)
    elif kind == "face":
        data, quality = face_jpeg(seed, attempt, poor)
        return Rendered(item, data, "image/jpeg", quality)
    else:
        data, quality = signature_png(seed, attempt, poor)
    return Rendered(item, data, "image/png", quality)
