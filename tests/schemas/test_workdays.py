from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.workdays import OfficeHours, WorkingCalendar

WIB = timezone(timedelta(hours=7))
# A fixed week in January 2025: Mon 6 ... Sun 12; Mon 13; Wed 15 a test holiday.
HOLIDAY = date(2025, 1, 15)
LEAVE = date(2025, 1, 16)
HOURS = OfficeHours(
    weekly={
        1: (time(8), time(16)),
        2: (time(8), time(16)),
        3: (time(8), time(16)),
        4: (time(8), time(16)),
        5: (time(8), time(11)),  # a short Friday
    }
)
CAL = WorkingCalendar(HOURS, national_holidays={HOLIDAY}, collective_leave={LEAVE})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=WIB)


def test_working_days() -> None:
    assert [CAL.is_working_day(date(2025, 1, d)) for d in range(6, 18)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,  # Mon-Fri, weekend
        True,
        True,
        False,
        False,
        True,  # Mon, Tue, holiday, leave, Fri
    ]


def test_add_working_days_skips_weekends_holidays_and_leave() -> None:
    assert CAL.add_working_days(date(2025, 1, 10), 1) == date(2025, 1, 13)  # Fri -> Mon
    assert CAL.add_working_days(date(2025, 1, 14), 1) == date(2025, 1, 17)  # Tue -> Fri
    assert CAL.add_working_days(date(2025, 1, 11), 1) == date(2025, 1, 13)  # Sat -> Mon
    assert CAL.add_working_days(date(2025, 1, 11), 0) == date(2025, 1, 11)
    assert CAL.add_working_days(date(2025, 1, 13), -1) == date(2025, 1, 10)
    assert CAL.add_working_days(date(2025, 1, 6), 7) == date(2025, 1, 17)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2025, 1, 10), date(2025, 1, 13)) == 1
    assert CAL.working_days_between(date(2025, 1, 6), date(2025, 1, 17)) == 7
    assert CAL.working_days_between(date(2025, 1, 17), date(2025, 1, 6)) == -7
    assert CAL.working_days_between(date(2025, 1, 11), date(2025, 1, 12)) == 0


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    st.integers(min_value=-30, max_value=30),
)
def test_between_inverts_add(day: date, n: int) -> None:
    end = CAL.add_working_days(day, n)
    assert CAL.working_days_between(day, end) == n
    assert n == 0 or CAL.is_working_day(end)


@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        (at(6, 10), at(7, 10)),  # Mon in office hours -> Tue same time
        (at(6, 8), at(7, 8)),  # exactly at opening
        (at(6, 7, 30), at(7, 8)),  # before opening: clock starts at opening
        (at(6, 15, 59), at(7, 15, 59)),  # just before closing
        (at(6, 16), at(8, 8)),  # at closing: clock starts Tue 08:00, due Wed 08:00
        (at(6, 20), at(8, 8)),  # evening
        (at(9, 14), at(10, 11)),  # Thu 14:00 -> Friday closes at 11:00
        (at(10, 10), at(13, 10)),  # Fri -> over the weekend to Mon
        (at(10, 12), at(14, 8)),  # after Friday's early close -> starts Mon, due Tue
        (at(11, 10), at(14, 8)),  # Saturday
        (at(14, 10), at(17, 10)),  # Tue -> over the holiday and the leave day to Fri
    ],
)
def test_deadline_is_one_working_day_of_office_time(accepted: datetime, due: datetime) -> None:
    assert CAL.deadline(accepted) == due


def test_deadline_takes_any_time_zone_and_answers_in_office_time() -> None:
    due = CAL.deadline(datetime(2025, 1, 6, 3, 0, tzinfo=UTC))  # 10:00 WIB
    assert due == at(7, 10)
    assert due.utcoffset() == timedelta(hours=7)


def test_deadline_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.deadline(datetime(2025, 1, 6, 10, 0))


def test_real_indonesian_holidays_and_cuti_bersama() -> None:
    real = WorkingCalendar()
    # 1 May 2025 (Labour Day) is a national holiday.
    assert real.deadline(datetime(2025, 4, 30, 10, 0, tzinfo=WIB)) == datetime(
        2025, 5, 2, 10, 0, tzinfo=WIB
    )
    # Eid al-Fitr 2025: 28 Mar leave, Nyepi 29 Mar, 31 Mar-1 Apr Eid, 2-7 Apr leave.
    assert real.add_working_days(date(2025, 3, 27), 1) == date(2025, 4, 8)
    # Collective leave can be replaced by configuration (here: none at all).
    no_leave = WorkingCalendar(collective_leave=())
    assert no_leave.add_working_days(date(2025, 3, 27), 1) == date(2025, 3, 28)


def test_office_hours_are_validated() -> None:
    with pytest.raises(ValidationError, match="open before it closes"):
        OfficeHours(weekly={1: (time(16), time(8))})
    with pytest.raises(ValidationError, match="at least one weekday"):
        OfficeHours(weekly={})
    with pytest.raises(ValidationError, match="1 \\(Monday\\) to 7"):
        OfficeHours(weekly={8: (time(8), time(16))})
    with pytest.raises(ValidationError, match="unknown time zone"):
        OfficeHours(timezone="Asia/Lumajang")
    wita = WorkingCalendar(
        OfficeHours(timezone="Asia/Makassar"), national_holidays=set(), collective_leave=()
    )
    assert wita.deadline(datetime(2025, 1, 6, 2, 0, tzinfo=UTC)).utcoffset() == timedelta(hours=8)
