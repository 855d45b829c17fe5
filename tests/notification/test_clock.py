"""The service clock: the system time, or ahead of it for a demo of the days after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notification.clock import SystemClock


def test_system_clock_ahead_runs_that_far_ahead_of_the_system_time() -> None:
    before = datetime.now(UTC)
    ahead = SystemClock(timedelta(hours=72)).now()
    after = datetime.now(UTC)
    assert before + timedelta(hours=72) <= ahead <= after + timedelta(hours=72)
    assert before <= SystemClock().now() <= datetime.now(UTC)
