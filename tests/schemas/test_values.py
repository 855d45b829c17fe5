from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.values import (
    DesaCode,
    InvalidValue,
    KecamatanCode,
    Nik,
    PersonName,
    PhoneNumber,
    RegionLevel,
    Sex,
    age_on,
    check_past_date,
    dotted,
    mask_nik,
    mask_niks_in,
    normalize_name,
    normalize_phone,
    parse_kk_number,
    parse_nik,
    parse_region_code,
    resolve_two_digit_year,
)

TODAY = date(2025, 6, 1)


def nik_code(value: str) -> str:
    with pytest.raises(InvalidValue) as e:
        parse_nik(value, today=TODAY)
    return e.value.code


# ---------------------------------------------------------------- NIK


def test_nik_of_a_man_gives_birth_date_and_sex() -> None:
    info = parse_nik("3508051507850001", today=TODAY)
    assert (info.birth_date, info.sex, info.kecamatan_code, info.serial) == (
        date(1985, 7, 15),
        Sex.MALE,
        "350805",
        1,
    )


def test_women_have_40_added_to_the_day() -> None:
    info = parse_nik("3508055507850001", today=TODAY)
    assert (info.birth_date, info.sex) == (date(1985, 7, 15), Sex.FEMALE)
    assert parse_nik("3508054101900002", today=TODAY).birth_date == date(1990, 1, 1)
    assert parse_nik("3508057112990002", today=TODAY).birth_date == date(1999, 12, 31)


@pytest.mark.parametrize("day", ["00", "32", "40", "72", "99"])
def test_impossible_day_is_rejected(day: str) -> None:
    assert nik_code(f"350805{day}0785" + "0001") == "nik_invalid_birth_date"


@pytest.mark.parametrize("month", ["00", "13"])
def test_impossible_month_is_rejected(month: str) -> None:
    assert nik_code(f"35080515{month}85" + "0001") == "nik_invalid_birth_date"


def test_day_that_does_not_exist_in_the_month_is_rejected() -> None:
    assert nik_code("3508053104850001") == "nik_invalid_birth_date"  # 31 April


def test_29_february_only_in_leap_years() -> None:
    assert parse_nik("3508052902960001", today=TODAY).birth_date == date(1996, 2, 29)
    assert parse_nik("3508056902000001", today=TODAY).birth_date == date(2000, 2, 29)
    assert nik_code("3508052902970001") == "nik_invalid_birth_date"
    assert nik_code("3508056902010001") == "nik_invalid_birth_date"


def test_29_february_00_is_1900_before_it_happened_in_2000() -> None:
    # On 28 Feb 2000, "290200" cannot be 2000 (future), so it is 1900: not a leap year.
    with pytest.raises(InvalidValue):
        parse_nik("3508052902000001", today=date(2000, 2, 28))
    assert parse_nik("3508052902000001", today=date(2000, 2, 29)).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("yy", "month", "day", "today", "year"),
    [
        (25, 5, 31, date(2025, 6, 1), 2025),  # earlier this year
        (25, 6, 1, date(2025, 6, 1), 2025),  # today
        (25, 6, 2, date(2025, 6, 1), 1925),  # tomorrow would be the future
        (26, 1, 1, date(2025, 6, 1), 1926),
        (0, 1, 1, date(2025, 6, 1), 2000),
        (99, 12, 31, date(2025, 6, 1), 1999),
        (99, 12, 31, date(2100, 1, 1), 2099),
        (5, 1, 1, date(2100, 1, 1), 2005),
    ],
)
def test_two_digit_year_takes_the_latest_century_not_in_the_future(
    yy: int, month: int, day: int, today: date, year: int
) -> None:
    assert resolve_two_digit_year(yy, month, day, today) == year


@given(
    born=st.dates(min_value=TODAY - timedelta(days=36_000), max_value=TODAY),
    female=st.booleans(),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_any_birth_in_the_last_century_round_trips(born: date, female: bool, serial: int) -> None:
    day = born.day + (40 if female else 0)
    nik = f"350805{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    info = parse_nik(nik, today=TODAY)
    assert (info.birth_date, info.sex, info.serial) == (
        born,
        Sex.FEMALE if female else Sex.MALE,
        serial,
    )


@pytest.mark.parametrize(
    "nik",
    [
        "9908051507850001",  # no province 99
        "0008051507850001",
        "3500051507850001",  # kabupaten 00
        "3570051507850001",  # 70 is neither kabupaten (01-69) nor kota (71-99)
        "3508001507850001",  # kecamatan 00
    ],
)
def test_invalid_region_is_rejected(nik: str) -> None:
    assert nik_code(nik) == "nik_invalid_region"


def test_kota_codes_are_accepted() -> None:
    assert parse_nik("3578011507850001", today=TODAY).kecamatan_code == "357801"


@pytest.mark.parametrize("nik", ["350805150785001", "35080515078500011"])
def test_wrong_length_is_rejected(nik: str) -> None:
    assert nik_code(nik) == "nik_wrong_length"


@pytest.mark.parametrize(
    "nik", ["35080515078500A1", "3508-05150785001", "３５０８０５１５０７８５０００１"]
)
def test_non_digits_are_rejected(nik: str) -> None:
    assert nik_code(nik) == "nik_not_digits"


def test_serial_0000_is_rejected() -> None:
    assert nik_code("3508051507850000") == "nik_invalid_serial"


def test_nik_errors_do_not_echo_the_nik() -> None:
    with pytest.raises(InvalidValue) as e:
        parse_nik("3508053104850001", today=TODAY)
    assert "3508053104850001" not in str(e.value) + e.value.message_id


def test_nik_type_in_models() -> None:
    adapter = TypeAdapter(Nik)
    assert adapter.validate_python("3508051507850001") == "3508051507850001"
    with pytest.raises(ValidationError, match="16 digits"):
        adapter.validate_python("123")


def test_mask_nik_keeps_region_and_serial_only() -> None:
    assert mask_nik("3508054107850001") == "3508********0001"
    assert mask_nik("35080541078500") == "**************"
    assert mask_nik("not a nik") == "*********"


def test_mask_niks_in_free_text() -> None:
    text = "NIK 3508054107850001 and phone 081234567890 and 35080541078500011"
    assert mask_niks_in(text) == (
        "NIK 3508********0001 and phone 081234567890 and 35080541078500011"
    )


# ---------------------------------------------------------------- KK and regions


def test_kk_number() -> None:
    assert parse_kk_number("3508050101100003") == "3508050101100003"
    for bad, code in [
        ("350805010110000", "kk_wrong_length"),
        ("35080501011000x3", "kk_not_digits"),
        ("9908050101100003", "kk_invalid_region"),
    ]:
        with pytest.raises(InvalidValue) as e:
            parse_kk_number(bad)
        assert e.value.code == code


@pytest.mark.parametrize(
    ("value", "level", "canonical"),
    [
        ("35", RegionLevel.PROVINCE, "35"),
        ("35.08", RegionLevel.KABUPATEN, "3508"),
        ("3508", RegionLevel.KABUPATEN, "3508"),
        ("35.08.05", RegionLevel.KECAMATAN, "350805"),
        (" 350805 ", RegionLevel.KECAMATAN, "350805"),
        ("35.08.05.2001", RegionLevel.DESA, "3508052001"),
    ],
)
def test_region_codes_accept_plain_and_dotted(
    value: str, level: RegionLevel, canonical: str
) -> None:
    assert parse_region_code(value, level) == canonical


def test_dotted_display_form() -> None:
    assert dotted("35") == "35"
    assert dotted("350805") == "35.08.05"
    assert dotted("3508052001") == "35.08.05.2001"


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("35.08", RegionLevel.KECAMATAN),  # too short for the level
        ("35.8.05", RegionLevel.KECAMATAN),
        ("350805", RegionLevel.KABUPATEN),
        ("99.08.05", RegionLevel.KECAMATAN),
        ("35.08.00", RegionLevel.KECAMATAN),
        ("35.08.05.0000", RegionLevel.DESA),
        ("35.08.05.", RegionLevel.KECAMATAN),
    ],
)
def test_bad_region_codes_are_rejected(value: str, level: RegionLevel) -> None:
    with pytest.raises(InvalidValue) as e:
        parse_region_code(value, level)
    assert e.value.code == f"invalid_{level.value}_code"


def test_region_types_in_models() -> None:
    assert TypeAdapter(KecamatanCode).validate_python("35.08.05") == "350805"
    assert TypeAdapter(DesaCode).validate_python("3508052001") == "3508052001"
    with pytest.raises(ValidationError):
        TypeAdapter(DesaCode).validate_python("350805")


# ---------------------------------------------------------------- phones, names, dates


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(0334) 881234", "+62334881234"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164
    assert TypeAdapter(PhoneNumber).validate_python(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "+1 650 253 0000", "nomor saya", "", "0812"])
def test_invalid_or_foreign_phone_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as e:
        normalize_phone(raw)
    assert e.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Siti   Nur'aini ", "Siti Nur'aini"),
        ("Jean-Paul", "Jean-Paul"),
        ("Moh. Ali", "Moh. Ali"),
        ("I Gusti Ngurah Ra’i", "I Gusti Ngurah Ra’i"),
        ("Sútjipto\tWirjo", "Sútjipto Wirjo"),
        ("Tan Kiem Liong 陈", "Tan Kiem Liong 陈"),
        ("Soekarno", "Soekarno"),
    ],
)
def test_names_are_trimmed_and_collapsed(raw: str, name: str) -> None:
    assert normalize_name(raw) == name
    assert TypeAdapter(PersonName).validate_python(raw) == name


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "invalid_name_length"),
        ("   ", "invalid_name_length"),
        ("A" * 61, "invalid_name_length"),
        ("Budi 2", "invalid_name_character"),
        ("Budi_Santoso", "invalid_name_character"),
        ("Budi, S.H.", "invalid_name_character"),
        ("'-.", "invalid_name"),
    ],
)
def test_bad_names_are_rejected(raw: str, code: str) -> None:
    with pytest.raises(InvalidValue) as e:
        normalize_name(raw)
    assert e.value.code == code
    assert e.value.message_id and e.value.message_en


def test_birth_dates_must_not_be_in_the_future() -> None:
    assert check_past_date(TODAY, today=TODAY) == TODAY
    with pytest.raises(InvalidValue) as e:
        check_past_date(TODAY + timedelta(days=1), today=TODAY)
    assert e.value.code == "date_in_future"
    with pytest.raises(InvalidValue):
        check_past_date(date(1899, 12, 31), today=TODAY)


def test_age_counts_completed_years_and_29_february_birthdays_on_1_march() -> None:
    assert age_on(date(2008, 3, 10), date(2025, 3, 9)) == 16
    assert age_on(date(2008, 3, 10), date(2025, 3, 10)) == 17
    assert age_on(date(2008, 2, 29), date(2025, 2, 28)) == 16
    assert age_on(date(2008, 2, 29), date(2025, 3, 1)) == 17
