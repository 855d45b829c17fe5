"""The simulated clock: a process's system time moved on, from outside the process.

A service reads the time from its system clock and nothing else. To show "the days after" a
working day (reminder SMS, calls for uncollected cards) without waiting for them, the demo
restarts a service under libfaketime (Debian package ``faketime``), which moves the wall clock
(``time.time()``, ``datetime.now()``) of that process only. The offset is constant, so the
monotonic clock moves by the same amount and every duration (asyncio's timers, timeouts,
back-offs, ``time.sleep``) stays real. (Leaving monotonic unfaked with ``DONT_FAKE_MONOTONIC``
breaks ``time.sleep`` with libfaketime 0.9.10: EINVAL from its ``clock_nanosleep`` wrapper.)

A Kafka broker refuses records stamped more than ``log.message.timestamp.after.max.ms`` (one
hour by default) ahead of its own clock; the local stack's broker lifts that limit so a moved
clock's events are accepted (see ``tuntas/stack/kafka.py``).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Sequence
from datetime import timedelta

LIBRARY_GLOB = "/usr/lib/*/faketime/libfaketime.so.1"


class NoFakeTime(RuntimeError):
    pass


def library() -> str:
    """The path of libfaketime on this machine."""
    found = sorted(glob.glob(LIBRARY_GLOB))
    if not found:
        raise NoFakeTime(
            f"libfaketime not found ({LIBRARY_GLOB}): install the Debian package faketime"
        )
    return found[0]


def environment(ahead: timedelta) -> dict[str, str]:
    """Environment for a process whose wall clock runs ``ahead`` of the real one."""
    if ahead < timedelta(0):
        raise ValueError("the simulated clock only moves forward")
    return {
        "LD_PRELOAD": library(),
        "FAKETIME": f"+{int(ahead.total_seconds())}",  # seconds; the clock keeps ticking
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulators.clock --hours 72 -- CMD ...``: run CMD with its clock moved on."""
    parser = argparse.ArgumentParser(prog="python -m simulators.clock", description=main.__doc__)
    parser.add_argument("--hours", type=float, required=True, help="how far ahead (≥ 0)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run")
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    os.execvpe(command[0], command, {**os.environ, **environment(timedelta(hours=args.hours))})


if __name__ == "__main__":
    sys.exit(main())
