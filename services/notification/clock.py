"""Where the service's "now" comes from: the system time, optionally ahead of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The system time, optionally ``ahead`` of it: a demo shows the days after a working day
    (uncollected-card reminders and calls) without waiting for them. A process-wide fake clock
    (libfaketime) cannot do this: the Kafka broker refuses records stamped more than an hour
    ahead of its own clock (``log.message.timestamp.after.max.ms``)."""

    def __init__(self, ahead: timedelta = timedelta(0)) -> None:
        self._ahead = ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + self._ahead
