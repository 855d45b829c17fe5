"""A supervisor killed outright (SIGKILL: an interrupted test run, the OOM killer) takes its
processes with it: an interrupted small chaos day once left 18 services running, holding
their ports and memory."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.waiting import wait_for

SUPERVISING = """
import asyncio, sys
from pathlib import Path
from tuntas.supervisor import ProcessSpec, Supervisor

async def main() -> None:
    sleep = "import os, time; print(os.getpid(), flush=True); time.sleep(600)"
    child = [sys.executable, "-c", sleep]
    supervisor = Supervisor([ProcessSpec("sleeper", child)], Path(sys.argv[1]))
    await supervisor.start()
    await asyncio.sleep(600)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


async def test_a_killed_supervisor_leaves_no_process_behind(tmp_path: Path) -> None:
    supervisor = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SUPERVISING, str(tmp_path), cwd=Path(__file__).parents[2]
    )
    log = tmp_path / "sleeper.log"
    await wait_for(lambda: log.exists() and log.read_text().strip(), what="the child started")
    child = int(log.read_text().split()[0])
    assert _alive(child)
    supervisor.send_signal(signal.SIGKILL)
    await supervisor.wait()
    await wait_for(lambda: not _alive(child), timeout=10, what="the child ended with it")
