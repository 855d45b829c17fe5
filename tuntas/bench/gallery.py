"""A generated fingerprint gallery for the 1:N bench: TOF1 templates (``schemas.fingerprint``)
of many people, several impressions each, with the variation real impressions of one finger
show.

Rendering a 416 px image and extracting its template costs ~40 ms, so a million records
cannot go through the image path. This generator computes what the extractor measures, the
ridge orientation field per 26 px block, straight from the capture simulator's ridge model
(``simulators.capture.render.fingerprint_png``: concentric ellipses, a tilt and three slow
warps per person), and applies per impression:

- rotation (σ 8°, clipped at ±25°) and translation (±30 px) of the finger on the platen;
- elastic distortion: a smooth random displacement of up to ~8 px (skin pressed unevenly);
- partial prints: a third of impressions lose a 20–45 % slice at one edge;
- sensor noise and dryness: lower ridge coherence and Gaussian noise on every block;
- missing detail: up to 8 % of blocks dropped (scars, dirt: the stand-in for lost minutiae).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

BLOCKS = 16  # as schemas.fingerprint: 16 × 16 blocks over a 416 px impression
SIZE = 416.0
FINGERS = 4  # the dedupe fingers: right thumb, right index, left thumb, left index
_SUB = 2  # orientation samples per block side (their mean gives the block's coherence)
_HEADER = b"TOF1" + bytes([BLOCKS])

Templates = NDArray[np.int8]  # (records, FINGERS, 2 * BLOCKS * BLOCKS)
Floats = NDArray[Any]  # float32 throughout (numpy's stubs lose the width in arithmetic)


def people(rng: np.random.Generator, n: int) -> Floats:
    """Ridge-model parameters of ``n`` people × FINGERS fingers: (n, FINGERS, 18)."""
    shape = (n, FINGERS)
    cols = [
        rng.uniform(0.35, 0.65, shape) * SIZE,  # centre x
        rng.uniform(0.3, 0.6, shape) * SIZE,  # centre y
        rng.uniform(0, np.pi, shape),  # angle
        rng.uniform(0.35, 0.9, shape),  # anisotropy
        rng.uniform(-0.8, 0.8, shape),  # tilt
        rng.uniform(8.5, 11.0, shape),  # ridge period (cancels in orientation; kept for fidelity)
    ]
    for _ in range(3):  # warps: amplitude, direction, frequency, phase
        cols += [
            rng.uniform(30, 60, shape),
            rng.uniform(0, np.pi, shape),
            rng.uniform(0.015, 0.04, shape),
            rng.uniform(0, 2 * np.pi, shape),
        ]
    return np.stack(cols, axis=-1).astype(np.float32)


def impressions(params: Floats, rng: np.random.Generator, *, vary: bool = True) -> Templates:
    """One impression of every finger in ``params`` (n, FINGERS, 18) → int8 templates."""
    n = params.shape[0]
    shape = (n, FINGERS, 1)
    step = SIZE / (BLOCKS * _SUB)
    grid = ((np.arange(BLOCKS * _SUB) + 0.5) * step).astype(np.float32)
    gx, gy = np.meshgrid(grid, grid)  # image coordinates of the samples
    gx, gy = gx.ravel()[None, None, :], gy.ravel()[None, None, :]
    rot: Floats
    tx: Floats
    ty: Floats
    amp: Floats
    freq: Floats
    ph: Floats
    if vary:
        rot = np.clip(rng.normal(0, np.radians(8), shape), -np.radians(25), np.radians(25))
        tx, ty = rng.uniform(-30, 30, shape), rng.uniform(-30, 30, shape)
        amp = rng.uniform(0, 8, (n, FINGERS, 2, 1))
        freq = rng.uniform(0.008, 0.02, (n, FINGERS, 2, 1))
        ph = rng.uniform(0, 2 * np.pi, (n, FINGERS, 2, 1))
    else:
        rot, tx, ty = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        amp = freq = ph = np.zeros((n, FINGERS, 2, 1))
    rot, tx, ty, amp, freq, ph = (a.astype(np.float32) for a in (rot, tx, ty, amp, freq, ph))
    # image → finger coordinates: undo the platen placement, then the elastic displacement
    cr, sr = np.cos(-rot), np.sin(-rot)
    x0, y0 = gx - SIZE / 2 - tx, gy - SIZE / 2 - ty
    fx = x0 * cr - y0 * sr + SIZE / 2 + amp[:, :, 0] * np.sin(freq[:, :, 0] * gy + ph[:, :, 0])
    fy = x0 * sr + y0 * cr + SIZE / 2 + amp[:, :, 1] * np.sin(freq[:, :, 1] * gx + ph[:, :, 1])
    px, py = _phase_gradient(params, fx, fy)
    theta2 = np.arctan2(2 * px * py, px * px - py * py) + 2 * rot  # doubled angle, image frame
    c, s = np.cos(theta2), np.sin(theta2)
    # block means of the doubled-angle vectors = orientation × coherence
    c = c.reshape(n, FINGERS, BLOCKS, _SUB, BLOCKS, _SUB).mean(axis=(3, 5))
    s = s.reshape(n, FINGERS, BLOCKS, _SUB, BLOCKS, _SUB).mean(axis=(3, 5))
    quality = rng.uniform(0.55, 0.95, (n, FINGERS, 1, 1)) if vary else 0.9
    c, s = c * quality, s * quality
    if vary:
        sigma = rng.uniform(0.05, 0.2, (n, FINGERS, 1, 1))
        c = c + rng.normal(0, 1, c.shape) * sigma
        s = s + rng.normal(0, 1, s.shape) * sigma
    keep = _footprint(n, rng, tx, ty, vary)
    c, s = np.where(keep, c, 0.0), np.where(keep, s, 0.0)
    out = np.stack([c, s], axis=-1).reshape(n, FINGERS, 2 * BLOCKS * BLOCKS)
    templates: Templates = np.clip(np.rint(out * 127), -127, 127).astype(np.int8)
    return templates


def _phase_gradient(p: Floats, x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """∇ of render.py's phase ``hypot(u·aniso, v) + tilt·u + Σ warps`` at (x, y)."""
    cx, cy, angle, aniso, tilt = (p[..., i : i + 1] for i in range(5))
    dx, dy = x - cx, y - cy
    ca, sa = np.cos(angle), np.sin(angle)
    u, v = dx * ca + dy * sa, -dx * sa + dy * ca
    r = np.maximum(np.hypot(u * aniso, v), 1e-6)
    du, dv = aniso * aniso * u / r + tilt, v / r
    gx, gy = du * ca - dv * sa, du * sa + dv * ca
    for k in range(3):
        amp, dir_, freq, ph = (p[..., 6 + 4 * k + i : 7 + 4 * k + i] for i in range(4))
        d = amp * freq * np.cos(freq * (dx * np.cos(dir_) + dy * np.sin(dir_)) + ph)
        gx, gy = gx + d * np.cos(dir_), gy + d * np.sin(dir_)
    return gx, gy


def _footprint(
    n: int,
    rng: np.random.Generator,
    tx: Floats,
    ty: Floats,
    vary: bool,
) -> NDArray[np.bool_]:
    """Blocks with ridges: the fingertip ellipse, minus a partial print's lost slice and
    dropped blocks. (n, FINGERS, BLOCKS, BLOCKS)."""
    centre = (np.arange(BLOCKS) + 0.5) * SIZE / BLOCKS
    bx, by = np.meshgrid(centre, centre)
    ex = (bx - SIZE / 2 - tx[..., None]) / (0.38 * SIZE)
    ey = (by - 0.57 * SIZE - ty[..., None]) / (0.53 * SIZE)
    keep: NDArray[np.bool_] = ex * ex + ey * ey <= 1.0
    if not vary:
        return keep
    partial = rng.random((n, FINGERS, 1, 1)) < 1 / 3
    normal = rng.uniform(0, 2 * np.pi, (n, FINGERS, 1, 1))
    lost = rng.uniform(0.2, 0.45, (n, FINGERS, 1, 1))
    proj = ((bx - SIZE / 2) * np.cos(normal) + (by - SIZE / 2) * np.sin(normal)) / (SIZE / 2)
    keep &= ~(partial & (proj > 1 - 2 * lost))
    keep &= rng.random(keep.shape) >= rng.uniform(0, 0.08, (n, FINGERS, 1, 1))
    return keep


def to_bytes(template: NDArray[np.int8]) -> bytes:
    """One finger's int8 vector as a TOF1 template."""
    return _HEADER + template.astype(np.int8).tobytes()


def exhaustive_scores(probes: Templates, gallery: Templates) -> NDArray[np.int16]:
    """``schemas.fingerprint.match_score`` averaged over the fingers (today's matcher, as
    the biometric stage's former in-process dedupe computed it), for every pair, vectorised:
    (probes, gallery)."""
    total = np.zeros((probes.shape[0], gallery.shape[0]), dtype=np.float32)
    for f in range(FINGERS):
        a = _unit(probes[:, f])
        b = _unit(gallery[:, f])
        total += np.rint(100 * np.maximum(a @ b.T, 0))
    return np.rint(total / FINGERS).astype(np.int16)


def _unit(v: NDArray[np.int8]) -> Floats:
    f = v.astype(np.float32)
    norm = np.linalg.norm(f, axis=1, keepdims=True)
    unit: Floats = np.divide(f, norm, out=np.zeros_like(f), where=norm > 0)
    return unit
