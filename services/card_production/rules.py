"""Pure rules of the station: blank serial ranges, print priority, storage places, card faces."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from schemas.application import CardFace
from schemas.events import ClaimCheck, PrintPriority
from schemas.regions import lumajang
from schemas.values import RegionLevel, Sex

MAX_BATCH = 10_000
_SERIAL = re.compile(r"^([A-Z0-9-]*?)(\d{1,12})$")

# Dukcapil circular 471.13/6153: first cards before replacements when blanks are short.
PRIORITY_RANK = {PrintPriority.FIRST_CARD: 0, PrintPriority.REPLACEMENT: 1}

PROVINCES = {"35": "JAWA TIMUR"}  # reference data; others print their code until listed


class InvalidSerialRange(ValueError):
    pass


def serial_range(first: str, last: str) -> list[str]:
    """Every serial from ``first`` to ``last``: same prefix, same-width number, first <= last."""
    a, b = _SERIAL.match(first.upper()), _SERIAL.match(last.upper())
    if a is None or b is None:
        raise InvalidSerialRange("a serial is letters/digits/'-' ending in a number")
    if a[1] != b[1] or len(a[2]) != len(b[2]):
        raise InvalidSerialRange("first and last serial must share prefix and number width")
    lo, hi = int(a[2]), int(b[2])
    if hi < lo:
        raise InvalidSerialRange("last serial is before the first")
    if hi - lo + 1 > MAX_BATCH:
        raise InvalidSerialRange(f"a batch holds at most {MAX_BATCH} blanks")
    width = len(a[2])
    return [f"{a[1]}{n:0{width}d}" for n in range(lo, hi + 1)]


def storage_place(n: int, drawers: int, slots: int) -> str:
    """The n-th (1-based) stored card's place: drawers fill slot by slot, then wrap around."""
    i = (n - 1) % (drawers * slots)
    return f"Laci {i // slots + 1}, slot {i % slots + 1}"


def record_id(claim: ClaimCheck) -> str:
    """The biometric record id in a claim check key such as ``bio://350805/<uuid>``."""
    return claim.key.rstrip("/").rsplit("/", 1)[-1]


def chip_serial(atr_hex: str, blank_serial: str) -> str:
    """Stand-in chip serial (the encoder API exposes no UID): stable per blank and ATR."""
    return hashlib.sha256(f"{atr_hex}:{blank_serial}".encode()).hexdigest()[:16].upper()


def give_up(failures: int, max_failures: int) -> bool:
    """A job that failed this often is escalated instead of tried again."""
    return failures >= max_failures


def certificate_number(n: int, kecamatan: str, on: date) -> str:
    return f"470/{n:05d}/{kecamatan}/{on.year}"


def certificate_valid_until(issued: date, days: int) -> date:
    return issued + timedelta(days=days)


@dataclass(frozen=True)
class Place:
    provinsi: str
    kabupaten: str
    kecamatan: str


def place_of(kecamatan: str) -> Place:
    regions = lumajang()
    kab = regions.get(kecamatan[:4], RegionLevel.KABUPATEN)
    kec = regions.get(kecamatan, RegionLevel.KECAMATAN)
    return Place(
        PROVINCES.get(kecamatan[:2], kecamatan[:2]),
        (kab.name if kab else kecamatan[:4]).upper(),
        (kec.name if kec else kecamatan).upper(),
    )


def _word(value: str) -> str:
    return value.replace("_", " ").upper()


def face_fields(card: CardFace) -> dict[str, str]:
    """The printed/encoded fields as text (also the chip's biodata)."""
    return {
        "nik": card.nik,
        "nama": card.name.upper(),
        "tempat_lahir": card.birth_place.upper(),
        "tanggal_lahir": card.birth_date.isoformat(),
        "jenis_kelamin": "LAKI-LAKI" if card.sex is Sex.MALE else "PEREMPUAN",
        "gol_darah": card.blood_type.value,
        "alamat": card.address.street.upper(),
        "rt": card.address.rt,
        "rw": card.address.rw,
        "kel_desa": card.address.desa_name.upper(),
        "agama": "KEPERCAYAAN TERHADAP TUHAN YME"
        if card.religion.value == "kepercayaan"
        else _word(card.religion.value),
        "status_perkawinan": _word(card.marital_status.value),
        "pekerjaan": card.occupation.upper(),
        "kewarganegaraan": card.citizenship.value.upper(),
    }


def biodata_bytes(card: CardFace) -> bytes:
    """What EF.BIODATA holds: the printed fields as compact UTF-8 JSON."""
    return json.dumps(face_fields(card), separators=(",", ":"), ensure_ascii=False).encode()
