"""Process pools whose workers end with the process that made them.

A stage killed with SIGKILL (a crash, the OOM killer, `make chaos`) cannot shut its pool
down, and Python's pool workers outlive it: each kill of the biometric stage left its two
image workers running, idle, holding their memory, until the host ran short. On Linux each
worker asks the kernel for SIGKILL when its parent goes (``PR_SET_PDEATHSIG``); elsewhere it
checks at start only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _end_with(parent: int) -> None:
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent went before the request took effect
        os._exit(1)


def process_pool(workers: int | None) -> ProcessPoolExecutor:
    """``workers`` spawned processes (not forked: the caller runs an event loop and threads,
    which a fork would copy mid-flight), each ended by the kernel when this process ends.
    The kernel's signal follows the thread that started the worker: submit from the thread
    that lives as long as the pool (the event loop's), not from a short-lived one."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_end_with,
        initargs=(os.getpid(),),
    )
