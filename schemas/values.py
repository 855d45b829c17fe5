"""Value types of the KTP-el domain: NIK, KK number, region codes, phone numbers, names.

Every check raises :class:`InvalidValue` with a machine code and a message in Bahasa Indonesia
and English. Messages never echo the offending value: they end up in logs and dead-letter
topics, and a NIK must never appear there unmasked.

The ``Annotated`` aliases (``Nik``, ``KkNumber``, ``KecamatanCode``, ``PhoneNumber``,
``PersonName``, ``BirthDate`` ...) plug these checks into pydantic models. Pure functions take
an explicit ``today``; the aliases use the current date in Indonesia (WIB).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BeforeValidator

# Dates in the domain (birth dates, "today" for age) are calendar dates in Indonesia.
_WIB = timezone(timedelta(hours=7))
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# Kepmendagri province codes, including the 2022 Papua provinces (93-96) and 97 held in reserve
# because new provinces have been created every few years. Replace with reference data if needed.
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "16", "17", "18", "19", "21"}
    | {"31", "32", "33", "34", "35", "36", "51", "52", "53"}
    | {"61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
    | {"81", "82", "91", "92", "93", "94", "95", "96", "97"}
)

NAME_MAX_LENGTH = 60  # the name field of the KTP-el/SIAK biodata
NAME_MIN_LENGTH = 1


class InvalidValue(ValueError):
    """A value broke a domain rule. ``code`` is stable; messages are for people."""

    def __init__(self, code: str, message_id: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_id = message_id
        self.message_en = message_en


def today_in_indonesia() -> date:
    """Today's calendar date in WIB, the reference for the ``Annotated`` validators."""
    return datetime.now(UTC).astimezone(_WIB).date()


# ---------------------------------------------------------------- region codes


class RegionLevel(StrEnum):
    PROVINCE = "province"
    KABUPATEN = "kabupaten"
    KECAMATAN = "kecamatan"
    DESA = "desa"


_REGION_DIGITS = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.KABUPATEN: 4,
    RegionLevel.KECAMATAN: 6,
    RegionLevel.DESA: 10,
}
_DOTTED = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def _region_problem(level: RegionLevel, en: str, id_: str) -> InvalidValue:
    return InvalidValue(f"invalid_{level.value}_code", id_, en)


def parse_region_code(value: str, level: RegionLevel) -> str:
    """Return the canonical (digits only) code, accepting the dotted form "35.08.05".

    Checks the shape and each part: a known province, kabupaten 01-69 or kota 71-99,
    kecamatan 01-99, desa/kelurahan 0001-9999.
    """
    if not isinstance(value, str):
        raise _region_problem(
            level, f"{level.value} code must be a string", f"kode {level.value} harus berupa teks"
        )
    text = value.strip()
    if "." in text:
        if not _DOTTED.fullmatch(text):
            raise _region_problem(
                level,
                f"{level.value} code is not in the dotted form 35.08.05",
                f"kode {level.value} tidak berformat bertitik seperti 35.08.05",
            )
        text = text.replace(".", "")
    want = _REGION_DIGITS[level]
    if not (text.isascii() and text.isdigit() and len(text) == want):
        raise _region_problem(
            level,
            f"{level.value} code must have {want} digits",
            f"kode {level.value} harus {want} digit angka",
        )
    check_region_parts(text, level)
    return text


def check_region_parts(digits: str, level: RegionLevel) -> None:
    """Check each part of an all-digit region code; the length must match ``level``."""
    if digits[:2] not in PROVINCE_CODES:
        raise _region_problem(level, "unknown province code", "kode provinsi tidak dikenal")
    if len(digits) >= 4:
        kab = int(digits[2:4])
        if not (1 <= kab <= 69 or 71 <= kab <= 99):
            raise _region_problem(
                level,
                "kabupaten/kota code must be 01-69 (kabupaten) or 71-99 (kota)",
                "kode kabupaten/kota harus 01-69 (kabupaten) atau 71-99 (kota)",
            )
    if len(digits) >= 6 and digits[4:6] == "00":
        raise _region_problem(
            level, "kecamatan code must not be 00", "kode kecamatan tidak boleh 00"
        )
    if len(digits) >= 10 and digits[6:10] == "0000":
        raise _region_problem(
            level, "desa/kelurahan code must not be 0000", "kode desa/kelurahan tidak boleh 0000"
        )


def dotted(code: str) -> str:
    """Display form: "350805" -> "35.08.05", "3508052001" -> "35.08.05.2001"."""
    parts = [code[0:2], code[2:4], code[4:6], code[6:10]]
    return ".".join(p for p in parts if p)


def _region_type(level: RegionLevel) -> AfterValidator:
    return AfterValidator(lambda v: parse_region_code(v, level))


ProvinceCode = Annotated[str, _region_type(RegionLevel.PROVINCE)]
KabupatenCode = Annotated[str, _region_type(RegionLevel.KABUPATEN)]
KecamatanCode = Annotated[str, _region_type(RegionLevel.KECAMATAN)]
DesaCode = Annotated[str, _region_type(RegionLevel.DESA)]


# ---------------------------------------------------------------- NIK


class Sex(StrEnum):
    MALE = "male"  # laki-laki
    FEMALE = "female"  # perempuan


@dataclass(frozen=True)
class NikInfo:
    """What a NIK says about its holder. The region is where the NIK was first issued."""

    nik: str
    kecamatan_code: str
    birth_date: date
    sex: Sex
    serial: int


def resolve_two_digit_year(yy: int, month: int, day: int, today: date) -> int:
    """The latest century that does not put (yy, month, day) after ``today``.

    Compared as (year, month, day) tuples, so the choice does not depend on whether the day
    exists in that year: 29-02-00 is 2000 (a leap year) and 29-02-01 is invalid either way.
    """
    year = today.year // 100 * 100 + yy
    return year if (year, month, day) <= (today.year, today.month, today.day) else year - 100


def _nik_problem(code: str, en: str, id_: str) -> InvalidValue:
    return InvalidValue(code, f"NIK {id_}", f"NIK {en}")


def _check_sixteen_digits(value: object, code: str, name_id: str, name_en: str) -> None:
    """What a NIK and a KK number share: 16 digits, the first six a kecamatan code."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise InvalidValue(
            f"{code}_not_digits",
            f"{name_id} hanya boleh berisi angka",
            f"{name_en} must contain digits only",
        )
    if len(value) != 16:
        raise InvalidValue(
            f"{code}_wrong_length",
            f"{name_id} harus 16 digit, bukan {len(value)}",
            f"{name_en} must have 16 digits, not {len(value)}",
        )
    try:
        check_region_parts(value[:6], RegionLevel.KECAMATAN)
    except InvalidValue as e:
        raise InvalidValue(
            f"{code}_invalid_region",
            f"{name_id} bagian wilayah: {e.message_id}",
            f"{name_en} region part: {e.message_en}",
        ) from None


def parse_nik(value: str, *, today: date) -> NikInfo:
    """Check a NIK and derive sex and birth date.

    Layout: province(2) kabupaten(2) kecamatan(2) DDMMYY serial(4); women have 40 added
    to DD. The two-digit year resolves to the latest century not in the future of ``today``.
    """
    if not isinstance(value, str):
        raise _nik_problem("nik_not_text", "must be a string", "harus berupa teks")
    _check_sixteen_digits(value, "nik", "NIK", "NIK")
    dd, mm, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    sex = Sex.FEMALE if dd > 40 else Sex.MALE
    day = dd - 40 if sex is Sex.FEMALE else dd
    if not 1 <= mm <= 12:
        raise _nik_problem(
            "nik_invalid_birth_date", "birth month must be 01-12", "bulan lahir harus 01-12"
        )
    if not 1 <= day <= 31:
        raise _nik_problem(
            "nik_invalid_birth_date",
            "birth day must be 01-31 (men) or 41-71 (women)",
            "tanggal lahir harus 01-31 (laki-laki) atau 41-71 (perempuan)",
        )
    year = resolve_two_digit_year(yy, mm, day, today)
    try:
        born = date(year, mm, day)
    except ValueError:
        raise _nik_problem(
            "nik_invalid_birth_date",
            "birth date does not exist",
            "tanggal lahir tidak ada di kalender",
        ) from None
    serial = int(value[12:])
    if serial == 0:
        raise _nik_problem(
            "nik_invalid_serial", "serial number must not be 0000", "nomor urut tidak boleh 0000"
        )
    return NikInfo(nik=value, kecamatan_code=value[:6], birth_date=born, sex=sex, serial=serial)


def mask_nik(nik: str) -> str:
    """Mask a NIK for logs: keep province+kabupaten (4) and the serial (4).

    "3508054107850001" -> "3508********0001". The birth date (and with it the sex) is always
    hidden. Anything that is not 16 digits is masked entirely, so a garbled NIK never leaks.
    """
    if len(nik) == 16 and nik.isascii() and nik.isdigit():
        return f"{nik[:4]}{'*' * 8}{nik[12:]}"
    return "*" * len(nik)


_SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


def mask_niks_in(text: str) -> str:
    """Mask every 16-digit run in free text (error messages, notes) with :func:`mask_nik`."""
    return _SIXTEEN_DIGITS.sub(lambda m: mask_nik(m.group()), text)


Nik = Annotated[str, AfterValidator(lambda v: parse_nik(v, today=today_in_indonesia()).nik)]


# ---------------------------------------------------------------- KK number


def parse_kk_number(value: str) -> str:
    """A Kartu Keluarga number: 16 digits, the first 6 the issuing kecamatan's code."""
    _check_sixteen_digits(value, "kk", "Nomor KK", "KK number")
    return value


KkNumber = Annotated[str, AfterValidator(parse_kk_number)]


# ---------------------------------------------------------------- phone numbers


def normalize_phone(value: object) -> str:
    """An Indonesian phone number in E.164 ("0812-3456-7890" -> "+6281234567890")."""
    problem = InvalidValue(
        "invalid_phone",
        "Nomor telepon Indonesia tidak valid",
        "not a valid Indonesian phone number",
    )
    if not isinstance(value, str):
        raise problem
    try:
        parsed = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException:
        raise problem from None
    if parsed.country_code != 62 or not phonenumbers.is_valid_number(parsed):
        raise problem
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


PhoneNumber = Annotated[str, BeforeValidator(normalize_phone)]


# ---------------------------------------------------------------- names and free text

_NAME_PUNCTUATION = frozenset("'’-.")


def normalize_name(value: object) -> str:
    """A personal name: NFC, trimmed, inner whitespace collapsed, 1-60 characters.

    Letters of any script, combining marks, spaces, apostrophes, hyphens and dots are
    allowed ("Siti Nur'aini", "Jean-Paul", "Moh. Ali", "Sútjipto"); digits and other
    symbols are not, and at least one letter is required.
    """
    if not isinstance(value, str):
        raise InvalidValue("invalid_name", "Nama harus berupa teks", "name must be a string")
    name = " ".join(unicodedata.normalize("NFC", value).split())
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH:
        raise InvalidValue(
            "invalid_name_length",
            f"Nama harus {NAME_MIN_LENGTH}-{NAME_MAX_LENGTH} karakter",
            f"name must be {NAME_MIN_LENGTH}-{NAME_MAX_LENGTH} characters",
        )
    for ch in name:
        if not (ch == " " or ch in _NAME_PUNCTUATION or unicodedata.category(ch)[0] in "LM"):
            raise InvalidValue(
                "invalid_name_character",
                "Nama hanya boleh berisi huruf, spasi, apostrof, tanda hubung dan titik",
                "name may contain only letters, spaces, apostrophes, hyphens and dots",
            )
    if not any(unicodedata.category(ch)[0] == "L" for ch in name):
        raise InvalidValue("invalid_name", "Nama harus berisi huruf", "name must contain a letter")
    return name


PersonName = Annotated[str, BeforeValidator(normalize_name)]


def normalize_text(value: object, *, max_length: int = 200) -> str:
    """Short free text (places, stations, occupations): trimmed, whitespace collapsed."""
    if not isinstance(value, str):
        raise InvalidValue("invalid_text", "Isian harus berupa teks", "must be text")
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not 1 <= len(text) <= max_length:
        raise InvalidValue(
            "invalid_text_length",
            f"Isian harus 1-{max_length} karakter",
            f"must be 1-{max_length} characters",
        )
    return text


ShortText = Annotated[str, BeforeValidator(normalize_text)]


# ---------------------------------------------------------------- dates


def check_past_date(
    value: date, *, today: date, what: str = "birth date", what_id: str = "tanggal lahir"
) -> date:
    """Reject dates after ``today`` and before 1900 (a typo, not a person)."""
    if value > today:
        raise InvalidValue(
            "date_in_future",
            f"{what_id.capitalize()} tidak boleh di masa depan",
            f"{what} must not be in the future",
        )
    if value < EARLIEST_BIRTH_DATE:
        raise InvalidValue(
            "date_too_early", f"{what_id.capitalize()} sebelum tahun 1900", f"{what} is before 1900"
        )
    return value


def age_on(birth_date: date, today: date) -> int:
    """Completed years. Someone born on 29 February has a birthday on 1 March in other years."""
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


BirthDate = Annotated[
    date, AfterValidator(lambda v: check_past_date(v, today=today_in_indonesia()))
]
PastDate = Annotated[
    date,
    AfterValidator(
        lambda v: check_past_date(v, today=today_in_indonesia(), what="date", what_id="tanggal")
    ),
]


def require_iso_datetime(value: object) -> object:
    """A date-time given as text the way the OpenAPI schema says (RFC 3339, e.g.
    ``2026-12-01T00:00:00+07:00``). Pydantic would also read a bare number as seconds since
    1970, so ``?since=0.5`` meant 1 January 1970: refused instead of guessed."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"\s*\d{4}-\d{2}-\d{2}", value):
        raise InvalidValue(
            "invalid_datetime",
            "Waktu harus bertanggal, misalnya 2026-12-01T00:00:00+07:00",
            "must be a date-time such as 2026-12-01T00:00:00+07:00",
        )
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(require_iso_datetime)]
