"""The community satisfaction index (IKM), PermenPAN-RB No. 14/2017. Pure.

- Nine elements (Lampiran, II.A), each answered on a 1-4 scale.
- Per element the mean score (NRR); the index is the weighted sum with each element 1/9
  (the regulation rounds the weight to 0.111), converted to 25-100 by x 25.
- Grade bands on the converted index (Lampiran, II.D): A 88.31-100 Sangat Baik,
  B 76.61-88.30 Baik, C 65.00-76.60 Kurang Baik, D 25.00-64.99 Tidak Baik.
- Minimum sample (Lampiran, III.B): the Krejcie & Morgan table the regulation reprints, which
  is the formula below with chi-square 3.841 (1 degree of freedom, 95 %), P = 0.5, d = 0.05.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

ELEMENTS: tuple[tuple[str, str], ...] = (
    ("U1", "Persyaratan"),
    ("U2", "Sistem, mekanisme, dan prosedur"),
    ("U3", "Waktu penyelesaian"),
    ("U4", "Biaya/tarif"),
    ("U5", "Produk spesifikasi jenis pelayanan"),
    ("U6", "Kompetensi pelaksana"),
    ("U7", "Perilaku pelaksana"),
    ("U8", "Penanganan pengaduan, saran dan masukan"),
    ("U9", "Sarana dan prasarana"),
)
WEIGHT = Fraction(1, len(ELEMENTS))  # exact, so a band limit is not missed by rounding


class Sex(StrEnum):
    MALE = "L"
    FEMALE = "P"


class Education(StrEnum):
    """The form's education choices."""

    SD = "SD"
    SMP = "SMP"
    SMA = "SMA"
    DIPLOMA = "D1-D3-D4"
    S1 = "S1"
    S2 = "S2_keatas"


class Occupation(StrEnum):
    PNS = "PNS"
    TNI = "TNI"
    POLRI = "POLRI"
    SWASTA = "SWASTA"
    WIRAUSAHA = "WIRAUSAHA"
    PELAJAR = "PELAJAR_MAHASISWA"
    LAINNYA = "LAINNYA"


# (lowest converted index, grade, quality) from the highest band down.
BANDS: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)


def grade(index: float) -> tuple[str, str]:
    """The grade and quality for an index already rounded to two decimals."""
    value = Decimal(str(index))
    for lowest, letter, quality in BANDS:
        if value >= lowest:
            return letter, quality
    raise ValueError("an IKM index is at least 25")


def minimum_sample(population: int) -> int:
    """Krejcie & Morgan: s = X2 N P(1-P) / (d2 (N-1) + X2 P(1-P)), rounded half up."""
    if population <= 0:
        return 0
    chi2, p, d = 3.841, 0.5, 0.05
    s = chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))
    return int(Decimal(str(s)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Index:
    responses: int
    element_means: tuple[float, ...]  # NRR per element, U1..U9
    index: float  # 25-100, two decimals
    grade: str
    quality: str
    lowest: tuple[str, ...]  # codes of the lowest-scoring elements, lowest first


def index_of(scores: Sequence[Sequence[int]], lowest_count: int = 3) -> Index | None:
    """The IKM of these responses (each nine scores 1-4); ``None`` without responses."""
    if not scores:
        return None
    for row in scores:
        if len(row) != len(ELEMENTS) or not all(1 <= s <= 4 for s in row):
            raise ValueError("each response has nine scores from 1 to 4")
    n = len(scores)
    means = tuple(Fraction(sum(row[i] for row in scores), n) for i in range(len(ELEMENTS)))
    raw = sum(m * WEIGHT for m in means) * 25
    exact = Decimal(raw.numerator) / Decimal(raw.denominator)
    value = float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    letter, quality = grade(value)
    order = sorted(range(len(ELEMENTS)), key=lambda i: (means[i], i))
    lowest = tuple(ELEMENTS[i][0] for i in order[:lowest_count])
    return Index(n, tuple(round(float(m), 3) for m in means), value, letter, quality, lowest)
