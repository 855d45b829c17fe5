"""The fault driver: from a recorded seed, hurts the running deployment at random moments.

Faults, each a thing that happens at a real office or data centre:
- ``kill``: SIGKILL of a service or station process (the supervisor starts it again); a chip
  simulator's kill is the card reader pulled out (vpcd drops the card);
- ``smsc-freeze``: the operator's SMSC stops answering (SIGSTOP) for a while: connections
  hang, then it goes on (SIGCONT);
- ``printer``: the station's CUPS queue stopped (ribbon jam) for a while;
- ``postgres``: the database server stopped as ``pg_ctl -m immediate`` does (SIGQUIT to the
  postmaster) and started again; only when the run owns its server.

Which fault, on what, and when come from ``random.Random(seed)`` alone, so a run's fault
schedule is recorded by its seed; what happened is written to ``faults.jsonl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tuntas import topology
from tuntas.stack import cups, procs
from tuntas.stack.postgres import PostgresNode
from tuntas.supervisor import Supervisor

KINDS = ("kill", "smsc-freeze", "printer", "postgres")


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    mean_interval_s: float = 2.0  # between two faults (exponential)
    hold_s: tuple[float, float] = (1.0, 6.0)  # how long a freeze or a stop lasts
    # relative weights of the kinds; postgres only counts when the run owns its server
    weights: tuple[tuple[str, float], ...] = (
        ("kill", 20.0),
        ("smsc-freeze", 1.0),
        ("printer", 1.0),
        ("postgres", 0.5),
    )


@dataclass(frozen=True)
class Fault:
    at_s: float
    kind: str
    target: str
    hold_s: float


def choose(
    rng: random.Random, plan: FaultPlan, deck: list[str], stations: Sequence[str]
) -> tuple[float, Fault]:
    """The next fault: (seconds to wait before it, the fault). Pure given ``rng``. Kills
    draw from ``deck``, a shuffled round of every process (refilled by the caller), so each
    process is killed as often as the others, in a seeded order."""
    wait = rng.expovariate(1.0 / plan.mean_interval_s)
    kinds = [k for k, _ in plan.weights]
    kind = rng.choices(kinds, weights=[w for _, w in plan.weights])[0]
    hold = rng.uniform(*plan.hold_s)
    if kind == "kill":
        target = deck.pop()
    elif kind == "printer":
        target = rng.choice(list(stations))
    else:
        target = kind.split("-")[0]  # smsc, postgres
    return wait, Fault(0.0, kind, target, hold)


@dataclass
class FaultLog:
    path: Path
    started: float = field(default_factory=time.monotonic)
    done: list[Fault] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, fault: Fault) -> None:
        at = round(time.monotonic() - self.started, 3)
        record = Fault(at, fault.kind, fault.target, round(fault.hold_s, 3))
        self.done.append(record)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record.__dict__) + "\n")

    def counts(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for f in self.done:
            label = "reader-removed" if f.target.startswith("chip-") else f.kind
            out[label] += 1
        return out


class Driver:
    """Runs the plan against ``supervisor`` while the block of :meth:`running` lasts."""

    def __init__(
        self,
        plan: FaultPlan,
        supervisor: Supervisor,
        options: topology.Options,
        log: FaultLog,
        *,
        postgres: PostgresNode | None = None,
        note: Callable[[str], None] = print,
    ) -> None:
        self.plan = plan
        self.supervisor = supervisor
        self.options = options
        self.log = log
        self.postgres = postgres
        self.note = note
        self._rng = random.Random(plan.seed)
        self._pending: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FaultLog]:
        task = asyncio.ensure_future(self._drive())
        try:
            yield self.log
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.gather(*self._pending, return_exceptions=True)
            await self._heal()

    async def _drive(self) -> None:
        deck: list[str] = []
        while True:
            if not deck:
                deck = sorted(self.supervisor.states)
                self._rng.shuffle(deck)
            wait, fault = choose(self._rng, self.plan, deck, self.options.kecamatan)
            await asyncio.sleep(wait)
            if await self._inflict(fault):
                self.log.add(fault)
            else:
                self.log.skipped[fault.kind] += 1

    async def _inflict(self, fault: Fault) -> bool:
        if fault.kind == "kill":
            return self._signal(fault.target, signal.SIGKILL)
        if fault.kind == "smsc-freeze":
            if not self._signal("smsc", signal.SIGSTOP):
                return False
            asyncio.get_running_loop().call_later(
                fault.hold_s, self._signal, "smsc", signal.SIGCONT
            )
            return True
        if fault.kind == "printer":
            queue = topology.queue(fault.target, self.options)
            await asyncio.to_thread(cups.stop_printer, queue, "chaos: printer stopped")
            self._later(fault.hold_s, lambda: cups.start_printer(queue))
            return True
        if fault.kind == "postgres" and self.postgres is not None:
            return await self._postgres_down(fault.hold_s)
        return False

    def _signal(self, name: str, sig: signal.Signals) -> bool:
        state = self.supervisor.states.get(name)
        if state is None or not state.running or state.process is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            state.process.send_signal(sig)
            return True
        return False

    def _later(self, delay: float, work: Callable[[], object]) -> None:
        """``work`` (blocking) in a thread after ``delay`` s, kept until done."""

        async def run() -> None:
            await asyncio.sleep(delay)
            await asyncio.to_thread(work)

        task = asyncio.ensure_future(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _postgres_down(self, hold_s: float) -> bool:
        """``pg_ctl -m immediate``: SIGQUIT to the postmaster, no shutdown checkpoint."""
        node = self.postgres
        assert node is not None
        pidfile = node.data / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return False
        os.kill(pid, signal.SIGQUIT)
        await asyncio.to_thread(
            procs.wait_until, lambda: not node.is_running(), 30, "PostgreSQL's stop"
        )
        self.note(f"chaos: PostgreSQL stopped (immediate) for {hold_s:.1f}s")
        await asyncio.sleep(hold_s)
        await asyncio.to_thread(node.start)
        return True

    async def _heal(self) -> None:
        """After the faults: everything running and answering again."""
        self._signal("smsc", signal.SIGCONT)
        for code in self.options.kecamatan:
            await asyncio.to_thread(cups.start_printer, topology.queue(code, self.options))
        if self.postgres is not None and not self.postgres.is_running():
            await asyncio.to_thread(self.postgres.start)
        await self.supervisor.wait_healthy(timeout=180)
