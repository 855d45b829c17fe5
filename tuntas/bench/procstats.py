"""CPU seconds and peak RSS of processes, read from ``/proc`` (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Sample:
    cpu_seconds: float  # user + system, the process and its reaped children
    peak_rss_mb: float  # VmHWM


def sample(pid: int) -> Sample | None:
    """``None`` when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is stat(5)'s field 3: utime is field 14, stime 15, cutime 16, cstime 17
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    hwm_kb = 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            hwm_kb = int(line.split()[1])
    return Sample(ticks / _TICK, hwm_kb / 1024)


def find_pids(needle: str) -> list[int]:
    """Processes whose command line contains ``needle`` (e.g. the broker's config path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its live children (PostgreSQL: postmaster and backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == root or int(fields[1]) == root:
            total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICK
    return total
