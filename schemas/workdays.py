"""Working days and the 1-working-day service deadline.

A working day is a day the office has hours (per kecamatan, :class:`OfficeHours`) that is
neither a national holiday (``holidays.Indonesia``) nor collective leave (cuti bersama).

**Deadline** (``WorkingCalendar.deadline``): the service standard promises completion within
1 working day of the file being accepted. The clock only runs in office hours: a file
accepted during office hours is due at the same clock time on the next working day; a file
accepted before opening counts from opening; one accepted after closing, or on a day off,
counts from the opening of the next working day. If the due day closes earlier than that
clock time (e.g. a short Friday), the deadline is that day's closing time.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, field_validator

from schemas.base import Contract

_FIVE_DAY_WEEK = {day: (time(8, 0), time(16, 0)) for day in range(1, 6)}


class OfficeHours(Contract):
    """One office's opening hours. ``weekly`` maps ISO weekday (1 = Monday) to (opens, closes);
    a missing weekday is closed. The default, Monday-Friday 08:00-16:00 WIB, is a placeholder
    for each kecamatan's own configuration."""

    timezone: str = "Asia/Jakarta"  # WIB; WITA/WIT offices use Asia/Makassar, Asia/Jayapura
    weekly: dict[int, tuple[time, time]] = Field(default_factory=lambda: dict(_FIVE_DAY_WEEK))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value

    @field_validator("weekly")
    @classmethod
    def _sane_week(cls, value: dict[int, tuple[time, time]]) -> dict[int, tuple[time, time]]:
        if not value:
            raise ValueError("the office must be open on at least one weekday")
        for day, (opens, closes) in value.items():
            if not 1 <= day <= 7:
                raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
            if not opens < closes:
                raise ValueError("an office must open before it closes")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class WorkingCalendar:
    """Working-day arithmetic for one office.

    ``collective_leave``: ``None`` uses the cuti bersama dates the ``holidays`` package knows
    (its "government" category for Indonesia); a collection replaces them exactly, for when a
    decree changes them. ``national_holidays`` can be replaced the same way (tests).
    """

    def __init__(
        self,
        hours: OfficeHours | None = None,
        *,
        collective_leave: Iterable[date] | None = None,
        national_holidays: Container[date] | None = None,
    ) -> None:
        self.hours = hours or OfficeHours()
        self._national: Container[date] = (
            national_holidays if national_holidays is not None else holidays.country_holidays("ID")
        )
        self._leave: Container[date] = (
            frozenset(collective_leave)
            if collective_leave is not None
            else holidays.country_holidays("ID", categories=("government",))
        )

    @cached_property
    def _zone(self) -> ZoneInfo:
        return self.hours.zone

    def is_working_day(self, day: date) -> bool:
        return (
            day.isoweekday() in self.hours.weekly
            and day not in self._national
            and day not in self._leave
        )

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (before it if ``n`` < 0; ``day`` if 0).

        ``day`` itself need not be a working day.
        """
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; when ``end`` is earlier, minus those in [end, start).

        Counted as steps, so ``working_days_between(d, add_working_days(d, n)) == n`` for
        every day and every n, negative ones included.
        """
        if end < start:
            return -sum(
                self.is_working_day(end + timedelta(days=i)) for i in range((start - end).days)
            )
        return sum(
            self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
        )

    def clock_start(self, moment: datetime) -> datetime:
        """When the service clock starts for something received at ``moment`` (office time)."""
        local = _aware(moment).astimezone(self._zone)
        day = local.date()
        if self.is_working_day(day):
            opens, closes = self.hours.weekly[day.isoweekday()]
            if local.time() < opens:
                return datetime.combine(day, opens, tzinfo=self._zone)
            if local.time() < closes:
                return local
        day = self.add_working_days(day, 1)
        return datetime.combine(day, self.hours.weekly[day.isoweekday()][0], tzinfo=self._zone)

    def deadline(self, accepted_at: datetime, working_days: int = 1) -> datetime:
        """The service deadline (see the module docstring), in the office's time zone."""
        start = self.clock_start(accepted_at)
        due_day = self.add_working_days(start.date(), working_days)
        opens, closes = self.hours.weekly[due_day.isoweekday()]
        clock = min(max(start.timetz().replace(tzinfo=None), opens), closes)
        return datetime.combine(due_day, clock, tzinfo=self._zone)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a time zone-aware datetime is required")
    return moment
