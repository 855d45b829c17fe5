"""A process pool's workers end with the process that made them, even when it is SIGKILLed
(each kill of the biometric stage used to leave its two image workers running for good)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tests.waiting import wait_for

OWNER = """
import time
from services.runtime.workers import process_pool

pool = process_pool(2)
busy = [pool.submit(time.sleep, 1) for _ in range(2)]  # the second finds no idle worker
for task in busy:
    task.result()
print(*sorted(pool._processes), flush=True)  # the workers' pids
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


async def test_the_workers_of_a_killed_process_end_with_it(tmp_path: Path) -> None:
    said = tmp_path / "workers.txt"  # a file, not a pipe: a worker left over would hold it
    workers: list[int] = []
    with said.open("w") as out:
        owner = await asyncio.create_subprocess_exec(sys.executable, "-c", OWNER, stdout=out)
    try:
        await wait_for(lambda: said.read_text().endswith("\n"), timeout=60, what="the workers")
        workers += [int(pid) for pid in said.read_text().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        owner.send_signal(signal.SIGKILL)
        await owner.wait()
        await wait_for(lambda: not any(_alive(pid) for pid in workers), what="the workers ending")
    finally:
        if owner.returncode is None:
            owner.kill()
            await owner.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # left over (the behaviour under test broken)
