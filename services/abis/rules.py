"""Pure rules of the ABIS: from a target FPIR to a score threshold, which neighbours are
candidates, and how far an instance has read the shared gallery's changes. No I/O."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class Position:
    """Which of the gallery's changes (``seq``, store.changes) an instance has read.

    Every change up to ``high`` is read except the ``gaps``: numbers that a later change
    overtook, from a transaction still open or one that wrote nothing under that number (it
    rolled back, or a later change of the same reference replaced the row). A writer takes its
    transaction id before its number (migrations/003), so a gap's writer was running when the
    first read that missed it took its snapshot, with an id below that snapshot's ``xmax``.
    Once a snapshot's ``xmin`` reaches that ``xmax`` the writer has ended: a gap still missing
    then never comes, and is forgotten. Until then every read asks for it again."""

    high: int = 0
    gaps: dict[int, int] = field(default_factory=dict)  # seq → xmax of the read that missed it

    def read(self, seqs: Sequence[int], complete: bool, xmin: int, xmax: int) -> None:
        """Note one read: the ``seqs`` it returned (ascending), whether it returned everything
        it asked for (``complete``: not cut by its limit), and its snapshot's bounds."""
        returned = set(seqs)
        for seq in returned:
            self.gaps.pop(seq, None)
        top = max(self.high, seqs[-1]) if seqs else self.high
        for seq in range(self.high + 1, top):
            if seq not in returned:
                self.gaps[seq] = xmax
        # a cut read says nothing of the numbers above its last row
        judged = top if complete or not seqs else seqs[-1]
        for seq, since in list(self.gaps.items()):
            if seq <= judged and xmin >= since:
                del self.gaps[seq]
        self.high = top
