"""Matching the holder's live finger against the chip's templates (activation, step 6).

The template format and its matcher are the shared ones of :mod:`schemas.fingerprint` (the
biometric stage writes the templates the chip holds). ``simulated_finger`` draws a
deterministic impression per seed for the demo and tests.
"""

from __future__ import annotations

import io
import math
import random

from PIL import Image

from schemas.fingerprint import TemplateError, match_score
from schemas.fingerprint import fingerprint_template as template

__all__ = ["SIZE", "TemplateError", "best_score", "match_score", "simulated_finger", "template"]

SIZE = 256


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
