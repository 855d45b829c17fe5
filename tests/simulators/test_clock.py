"""The simulated clock moves a real process's wall clock, and only its wall clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

from simulators import clock

PROBE = (
    "import json, time, datetime;"
    "t0 = time.monotonic(); time.sleep(0.2);"
    "print(json.dumps({'wall': time.time(), 'now': datetime.datetime.now().timestamp(),"
    " 'slept': time.monotonic() - t0}))"
)


def test_a_process_under_the_simulated_clock_sees_the_days_after_with_real_durations() -> None:
    ahead = timedelta(days=3, hours=2)
    env = {**os.environ, **clock.environment(ahead)}
    before = time.time()
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    after = time.time()
    seen = json.loads(out.stdout)
    shift = ahead.total_seconds()
    assert before + shift - 5 <= seen["wall"] <= after + shift + 5
    assert before + shift - 5 <= seen["now"] <= after + shift + 5
    # durations stay real: a 0.2 s sleep lasts 0.2 s, not days
    assert 0.15 <= seen["slept"] < 5


def test_the_clock_only_moves_forward() -> None:
    try:
        clock.environment(timedelta(hours=-1))
    except ValueError as error:
        assert "forward" in str(error)
    else:
        raise AssertionError("a clock moved backwards was accepted")
