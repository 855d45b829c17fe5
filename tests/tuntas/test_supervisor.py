"""The supervisor restarts a crashed process with backoff and stops everything it started."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.waiting import wait_for
from tuntas.supervisor import ProcessSpec, Supervisor


async def test_crashing_process_is_restarted_and_all_stop_cleanly(tmp_path: Path) -> None:
    marker = tmp_path / "starts"
    crasher = ProcessSpec(
        "crasher",
        [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(3)"],
    )
    sleeper = ProcessSpec("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
    supervisor = Supervisor([crasher, sleeper], tmp_path / "logs", backoff_base=0.05)
    await supervisor.start()
    try:
        await wait_for(
            lambda: supervisor.states["crasher"].restarts >= 2,
            timeout=30,
            what="two restarts of the crashing process",
        )
        assert supervisor.states["crasher"].last_exit == 3
        assert marker.read_text().count("x") >= 2  # each restart followed a real start
        assert supervisor.states["sleeper"].running
        sleeper_process = supervisor.states["sleeper"].process
    finally:
        await supervisor.stop(timeout=10)
    assert sleeper_process is not None and sleeper_process.returncode is not None
    assert not supervisor.states["sleeper"].running


async def test_planned_restart_applies_new_environment_without_counting_a_crash(
    tmp_path: Path,
) -> None:
    seen = tmp_path / "seen"
    script = (
        "import os, time; "
        f"open({str(seen)!r}, 'a').write(os.environ.get('MODE', '?') + chr(10)); "
        "time.sleep(600)"
    )
    spec = ProcessSpec("worker", [sys.executable, "-c", script], {"MODE": "day"})
    supervisor = Supervisor([spec], tmp_path / "logs", backoff_base=5.0)
    await supervisor.start()
    try:
        await wait_for(seen.exists, timeout=30, what="the first start")
        first = supervisor.states["worker"].process
        await supervisor.restart("worker", {"MODE": "later"}, timeout=30)
        await wait_for(
            lambda: seen.read_text().splitlines() == ["day", "later"],
            timeout=30,
            what="the restarted process reporting its new environment",
        )
        assert supervisor.states["worker"].process is not first
        assert supervisor.states["worker"].restarts == 0
        assert first is not None and first.returncode is not None
    finally:
        await supervisor.stop(timeout=10)
