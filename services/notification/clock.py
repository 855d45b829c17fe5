"""Where the service's "now" comes from: the system clock (tests inject a manual one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The system time. A demo shows the days after a working day by moving this process's
    system clock from outside (``simulators/clock.py``, libfaketime), never by a setting."""

    def now(self) -> datetime:
        return datetime.now(UTC)
