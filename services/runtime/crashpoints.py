"""Crash points: let crash tests make a process SIGKILL itself at a named, dangerous line.

``TUNTAS_CRASH_AT=after_db_commit:7`` kills the process the 7th time it reaches
``after_db_commit``; several are separated by commas (``mid_batch:40,after_publish:2``).
Unset (production), :func:`reach` is one module-level ``None`` check.

The points, in the order a message meets them:

- ``mid_batch``: a message of the batch handled, the transaction still open;
- ``after_outbox_insert``: the batch's outbox rows written, the transaction still open;
- ``after_db_commit``: the batch's transaction committed, its offsets not yet;
- ``after_publish``: the relay's batch acknowledged by Kafka, its rows not yet marked sent.

And on the HTTP side (:mod:`services.runtime.commands`):

- ``after_http_commit``: a command's transaction committed (state, outbox rows, stored
  answer), its answer not yet sent to the client.
"""

from __future__ import annotations

import os
import signal

MESSAGE_POINTS = ("mid_batch", "after_outbox_insert", "after_db_commit", "after_publish")
HTTP_POINTS = ("after_http_commit",)
POINTS = MESSAGE_POINTS + HTTP_POINTS
ENV = "TUNTAS_CRASH_AT"


def parse(spec: str | None) -> dict[str, int] | None:
    """``"point:n,point:n"`` to ``{point: n}``; ``None`` for an empty spec."""
    if not spec or not spec.strip():
        return None
    plan: dict[str, int] = {}
    for item in spec.split(","):
        name, _, nth = item.strip().partition(":")
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown crash point {name!r} (known: {', '.join(POINTS)})")
        plan[name] = int(nth or "1")
        if plan[name] < 1:
            raise ValueError(f"{ENV}: {item!r}: the count starts at 1")
    return plan


_plan: dict[str, int] | None = parse(os.environ.get(ENV))
_reached: dict[str, int] = {}


def reach(point: str) -> None:
    """Count one pass through ``point``; SIGKILL this process on the planned pass."""
    if _plan is None:
        return
    nth = _plan.get(point)
    if nth is None:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] >= nth:
        os.kill(os.getpid(), signal.SIGKILL)
