"""Pure rules of the ABIS: from a target FPIR to a score threshold, and which neighbours are
candidates. No I/O."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from schemas.events import AbisCandidate

# Score (100 × the embedding inner product) above which a non-mated search returns a
# candidate at this false-positive identification rate, measured by `tuntas bench abis` on
# the generated gallery (10,000 people; docs/abis.md): the lowest score that at most that
# share of strangers reach. Rendered strangers score lower (pairs: p99.9 36.5, max 45.2 of
# 89,700; bench --real-path).
# At a larger gallery the same threshold gives a proportionally larger FPIR: the bench
# measures it at each size.
CALIBRATION: tuple[tuple[float, int], ...] = ((0.01, 53), (0.001, 57), (0.0001, 58))
DEFAULT_FPIR = 0.001
DEFAULT_MAX_RESULTS = 10


def threshold_for(target_fpir: float | None) -> int:
    """The threshold of the calibrated FPIR at or below ``target_fpir`` (stricter when the
    target falls between two points; the strictest one below the table)."""
    fpir = DEFAULT_FPIR if target_fpir is None else target_fpir
    for calibrated, threshold in CALIBRATION:
        if calibrated <= fpir:
            return threshold
    return CALIBRATION[-1][1]


def score(inner_product: float) -> int:
    return max(0, min(100, round(100 * inner_product)))


def candidates(
    neighbours: Sequence[tuple[uuid.UUID, float]], threshold: int, max_results: int
) -> tuple[AbisCandidate, ...]:
    """Neighbours scoring at least ``threshold``, best first, at most ``max_results``."""
    hits = [(ref, score(ip)) for ref, ip in neighbours]
    hits = sorted((h for h in hits if h[1] >= threshold), key=lambda h: -h[1])
    return tuple(AbisCandidate(reference_id=r, score=s) for r, s in hits[:max_results])


def reference_allowed(url: str, prefixes: Sequence[str]) -> bool:
    return any(url.startswith(p) for p in prefixes)
