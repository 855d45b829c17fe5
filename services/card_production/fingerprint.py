"""Matching the holder's live finger against the chip's templates (activation, step 6).

The station may not import the biometric stage, and the biometric service offers no match
endpoint yet, so this module carries the same template format as the biometric stage's
stand-in: "TOF1", the block-wise ridge orientation field (header ``b"TOF1" + blocks``, then 2
signed bytes per block), and the same cosine score 0..100. STAND-IN, like the original: not for
real impressions. ``simulated_finger`` draws a deterministic impression per seed for the demo.
"""

from __future__ import annotations

import io
import math
import random
import struct
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageFilter, ImageMath

_MAGIC = b"TOF1"
_BLOCKS = 16
_HEADER = struct.Struct(">4sB")
_SOBEL_X = (-1, 0, 1, -2, 0, 2, -1, 0, 1)
_SOBEL_Y = (-1, -2, -1, 0, 0, 0, 1, 2, 1)
_MIN_ENERGY = 4.0
SIZE = 256


class TemplateError(ValueError):
    pass


def template(image_bytes: bytes) -> bytes:
    """A TOF1 template from a fingerprint image (any Pillow-readable format)."""
    try:
        image = Image.open(io.BytesIO(image_bytes)).convert("L")
    except Exception as exc:  # Pillow raises several unrelated types for bad input
        raise TemplateError(f"not a readable image: {exc}") from exc
    image = image.filter(ImageFilter.GaussianBlur(1))
    gx = image.filter(ImageFilter.Kernel((3, 3), _SOBEL_X, scale=8, offset=128)).convert("F")
    gy = image.filter(ImageFilter.Kernel((3, 3), _SOBEL_Y, scale=8, offset=128)).convert("F")

    def block_means(product: Callable[[Any, Any], Any]) -> list[float]:
        out = ImageMath.lambda_eval(lambda a: product(a["x"] - 128.0, a["y"] - 128.0), x=gx, y=gy)
        assert isinstance(out, Image.Image)
        small = out.resize((_BLOCKS, _BLOCKS), Image.Resampling.BOX)
        return [float(v) for v in small.get_flattened_data()]  # type: ignore[arg-type]

    cos2 = block_means(lambda x, y: x * x - y * y)
    sin2 = block_means(lambda x, y: 2.0 * x * y)
    energy = block_means(lambda x, y: x * x + y * y)
    out = bytearray(_HEADER.pack(_MAGIC, _BLOCKS))
    for c, s, e in zip(cos2, sin2, energy, strict=True):
        if e < _MIN_ENERGY:
            out += b"\x00\x00"
            continue
        out += struct.pack(">bb", _q(c / e), _q(s / e))
    return bytes(out)


def _q(value: float) -> int:
    return max(-127, min(127, round(value * 127)))


def _vector(tpl: bytes) -> tuple[int, ...]:
    if len(tpl) < _HEADER.size:
        raise TemplateError("template too short")
    magic, blocks = _HEADER.unpack_from(tpl)
    if magic != _MAGIC or len(tpl) != _HEADER.size + 2 * blocks * blocks:
        raise TemplateError("not a TOF1 template")
    return struct.unpack_from(f">{2 * blocks * blocks}b", tpl, _HEADER.size)


def match_score(a: bytes, b: bytes) -> int:
    """Similarity 0..100 of two templates (cosine of the orientation fields, floored at 0)."""
    va, vb = _vector(a), _vector(b)
    if len(va) != len(vb):
        raise TemplateError("templates of different sizes")
    dot = sum(x * y for x, y in zip(va, vb, strict=True))
    na = math.sqrt(sum(x * x for x in va))
    nb = math.sqrt(sum(y * y for y in vb))
    if na == 0 or nb == 0:
        return 0
    return max(0, round(100 * dot / (na * nb)))


def best_score(live: bytes, chip_templates: tuple[bytes, ...]) -> int:
    """The live template's best score against the chip's (unreadable templates score 0)."""
    scores = [0]
    for tpl in chip_templates:
        try:
            scores.append(match_score(live, tpl))
        except TemplateError:
            continue
    return max(scores)


def simulated_finger(seed: str) -> bytes:
    """A deterministic synthetic impression (PNG) for ``seed``: ridges along a smooth,
    seed-dependent orientation field (a few random vortices)."""
    rnd = random.Random(f"finger|{seed}")
    centres = [
        (rnd.uniform(0, SIZE), rnd.uniform(0, SIZE), rnd.choice((-1.0, 1.0)) * rnd.uniform(0.5, 1))
        for _ in range(3)
    ]
    base = rnd.uniform(0, math.pi)
    period = rnd.uniform(7.0, 10.0)
    pixels = bytearray(SIZE * SIZE)
    for y in range(SIZE):
        for x in range(SIZE):
            theta = base
            for cx, cy, k in centres:
                theta += k * math.atan2(y - cy, x - cx) / 2
            u = x * math.cos(theta) + y * math.sin(theta)
            pixels[y * SIZE + x] = int(128 + 110 * math.sin(2 * math.pi * u / period))
    image = Image.frombytes("L", (SIZE, SIZE), bytes(pixels))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
