"""The fingerprint template format shared by the biometric store and the card chip, and its
matcher: biometric writes templates, card production puts two on the chip and matches the
holder's live finger against them at activation, so both stages must read one format.

STAND-IN: a real system extracts ISO/IEC 19794-2 minutiae (e.g. NIST NBIS mindtct) and
matches them (bozorth3 or a vendor matcher). This module instead derives the ridge
orientation field, block by block, and compares two fields ("TOF1": header ``b"TOF1" +
blocks``, then 2 signed bytes per block). It is deterministic, compact and good enough to
tell fingers apart in the simulated data; it is not rotation-invariant and must not be used
on real impressions for identity decisions.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageFilter, ImageMath

_MAGIC = b"TOF1"  # Tuntas orientation field, format 1
_BLOCKS = 16  # 16 × 16 blocks over the impression (26 px each at 416 px)
_HEADER = struct.Struct(">4sB")
_SOBEL_X = (-1, 0, 1, -2, 0, 2, -1, 0, 1)
_SOBEL_Y = (-1, -2, -1, 0, 0, 0, 1, 2, 1)
_MIN_ENERGY = 4.0  # mean gradient energy below which a block is background, not ridges


class TemplateError(ValueError):
    pass


def fingerprint_template(image_bytes: bytes) -> bytes:
    """A compact template from a fingerprint image (any Pillow-readable format)."""
    try:
        image = Image.open(io.BytesIO(image_bytes)).convert("L")
    except Exception as exc:  # Pillow raises several unrelated types for bad input
        raise TemplateError(f"not a readable image: {exc}") from exc
    image = image.filter(ImageFilter.GaussianBlur(1))
    # Sobel outputs are signed: scale and offset them into 0..255, then undo in float
    gx = image.filter(ImageFilter.Kernel((3, 3), _SOBEL_X, scale=8, offset=128)).convert("F")
    gy = image.filter(ImageFilter.Kernel((3, 3), _SOBEL_Y, scale=8, offset=128)).convert("F")

    def block_means(product: Callable[[Any, Any], Any]) -> list[float]:
        # ImageMath operands are images overloading arithmetic; the Sobel values are offset
        out = ImageMath.lambda_eval(lambda a: product(a["x"] - 128.0, a["y"] - 128.0), x=gx, y=gy)
        assert isinstance(out, Image.Image)
        # block means of the gradient products = the structure tensor per block
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
        # doubled-angle vector scaled by coherence (|tensor| / energy): 1 = clean parallel ridges
        out += struct.pack(">bb", _q(c / e), _q(s / e))
    return bytes(out)


def _q(value: float) -> int:
    return max(-127, min(127, round(value * 127)))


def check_template(template: bytes) -> int:
    """The template's block count; ``TemplateError`` unless it is a well-formed TOF1 template."""
    if len(template) < _HEADER.size:
        raise TemplateError("template too short")
    magic, blocks = _HEADER.unpack_from(template)
    if magic != _MAGIC or len(template) != _HEADER.size + 2 * blocks * blocks:
        raise TemplateError("not a TOF1 template")
    return int(blocks)


def _vector(template: bytes) -> tuple[int, ...]:
    blocks = check_template(template)
    return struct.unpack_from(f">{2 * blocks * blocks}b", template, _HEADER.size)


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
