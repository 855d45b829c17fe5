

def test_system_clock_ahead_runs_that_far_ahead_of_the_system_time() -> None:
    from datetime import UTC, datetime, timedelta

    from services.notification.rules import SystemClock

    before = datetime.now(UTC)
    ahead = SystemClock(timedelta(hours=72)).now()
    after = datetime.now(UTC)
    assert before + timedelta(hours=72) <= ahead <= after + timedelta(hours=72)
    assert before <= SystemClock().now()
