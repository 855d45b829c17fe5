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
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tuntas import topology
from tuntas.chaos.proxy import DelayProxy
from tuntas.stack import cups, procs
from tuntas.stack.kafka import KafkaNode
from tuntas.stack.postgres import PostgresNode
from tuntas.supervisor import ProcessState, Supervisor

# lifted after their hold, not inflicted inline
HELD = ("smsc-freeze", "printer", "delay", "station-delay")
RECOVERY_TIMEOUT_S = 300.0
# delay: every client's link to PostgreSQL; station-delay: the card stations' to the broker
KINDS = (
    "kill",
    "smsc-freeze",
    "printer",
    "postgres",
    "delay",
    "station-delay",
    "broker",
    "controller",
)


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    mean_interval_s: float = 2.0  # between two faults (exponential)
    hold_s: tuple[float, float] = (1.0, 6.0)  # how long a freeze, stop or delay lasts
    delay_s: float = 0.2  # added to each chunk, either way, by a delay fault (either link)
    kills_per_round: int = 2  # each process killed this often per round of faults
    # rounds finished even when the day ends sooner, so each kind happens at least so often
    min_rounds: int = 0


@dataclass(frozen=True)
class Fault:
    at_s: float
    kind: str
    target: str
    hold_s: float


def round_of(
    rng: random.Random,
    plan: FaultPlan,
    processes: Sequence[str],
    stations: Sequence[str],
    others: Sequence[str],
) -> list[Fault]:
    """One round of faults in a seeded order (pure given ``rng``): every process killed
    ``kills_per_round`` times, a printer stopped, and each kind in ``others`` (those the run
    can do: smsc-freeze, postgres, delay, station-delay, broker, controller) once; so every
    kind recurs however long or short the day, and each process is killed as often as the
    others."""
    faults = [
        Fault(0.0, "kill", name, 0.0)
        for name in sorted(processes)
        for _ in range(plan.kills_per_round)
    ]
    faults.append(Fault(0.0, "printer", rng.choice(list(stations)), rng.uniform(*plan.hold_s)))
    faults += [Fault(0.0, kind, kind.split("-")[0], rng.uniform(*plan.hold_s)) for kind in others]
    rng.shuffle(faults)
    return faults


@dataclass
class FaultLog:
    path: Path
    started: float = field(default_factory=time.monotonic)
    done: list[Fault] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    recovery: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds

    def add(self, fault: Fault, took_s: float = 0.0) -> None:
        """``took_s``: how long inflicting it took (a stop's hold and restart)."""
        at = round(time.monotonic() - self.started, 3)
        record = Fault(at, fault.kind, fault.target, round(fault.hold_s, 3))
        self.done.append(record)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({**record.__dict__, "took_s": round(took_s, 3)}) + "\n")

    def recovered(self, kind: str, seconds: float) -> None:
        self.recovery.setdefault(kind, []).append(round(seconds, 3))

    def recovery_figures(self) -> dict[str, dict[str, float]]:
        """Per kind: how many recoveries were measured, their median and max (s)."""
        return {
            kind: {"n": len(v), "median_s": statistics.median(v), "max_s": max(v)}
            for kind, v in sorted(self.recovery.items())
        }

    def counts(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for f in self.done:
            label = "reader-removed" if f.target.startswith("chip-") else f.kind
            out[label] += 1
        return out


class Driver:
    """Runs the plan against ``supervisor`` while the block of :meth:`running` lasts.

    ``postgres`` (with ``proxy`` in front of it), ``cluster`` (a 3-node KRaft cluster) and
    ``station_links`` (the proxies the card stations reach the broker through) are the run's
    own; without them those kinds are not in the rounds."""

    def __init__(
        self,
        plan: FaultPlan,
        supervisor: Supervisor,
        options: topology.Options,
        log: FaultLog,
        *,
        postgres: PostgresNode | None = None,
        proxy: DelayProxy | None = None,
        cluster: Sequence[KafkaNode] = (),
        station_links: Sequence[DelayProxy] = (),
        note: Callable[[str], None] = print,
    ) -> None:
        self.plan = plan
        self.supervisor = supervisor
        self.options = options
        self.log = log
        self.postgres = postgres
        self.proxy = proxy
        self.cluster = list(cluster)
        self.station_links = list(station_links)
        self.note = note
        self.rounds = 0
        self._rng = random.Random(plan.seed)
        self._pending: set[asyncio.Task[None]] = set()
        self._stopping = False

    def other_kinds(self) -> list[str]:
        kinds = ["smsc-freeze"] if "smsc" in self.supervisor.states else []
        if self.postgres is not None:
            kinds.append("postgres")
        if self.proxy is not None:
            kinds.append("delay")
        if self.station_links:
            kinds.append("station-delay")
        if len(self.cluster) >= 3:  # one node of three down keeps the quorum and min.insync 2
            kinds += ["broker", "controller"]
        return kinds

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FaultLog]:
        task = asyncio.ensure_future(self._drive())
        try:
            yield self.log
        except BaseException:
            # The day failed: its error is what matters now, not the rounds still to do (the
            # fifth large run's day ended on an error at 17:41 and, unseen, the driver went on).
            task.cancel()
            raise
        finally:
            self._stopping = True
            if self.rounds >= self.plan.min_rounds or task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task  # returns by itself once min_rounds are done
            await asyncio.gather(*self._pending, return_exceptions=True)
            await self._heal()

    async def _drive(self) -> None:
        while True:
            faults = round_of(
                self._rng,
                self.plan,
                list(self.supervisor.states),
                self.options.kecamatan,
                self.other_kinds(),
            )
            for fault in faults:
                await asyncio.sleep(self._rng.expovariate(1.0 / self.plan.mean_interval_s))
                killed = self._process(fault.target) if fault.kind == "kill" else None
                began = time.monotonic()
                try:
                    done = await self._inflict(fault)
                except Exception as error:  # a fault that could not be done stops no run
                    self.note(f"chaos: {fault.kind} on {fault.target} failed: {error!r}")
                    done = False
                if done:
                    self.log.add(fault, time.monotonic() - began)
                    lifted = time.monotonic() + (fault.hold_s if fault.kind in HELD else 0.0)
                    self._keep(self._recovery(fault.kind, began, lifted, killed))
                else:
                    self.log.skipped[fault.kind] += 1
            self.rounds += 1
            if self._stopping and self.rounds >= self.plan.min_rounds:
                return

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
        if fault.kind == "delay" and self.proxy is not None:
            self.proxy.delay_s = self.plan.delay_s
            asyncio.get_running_loop().call_later(fault.hold_s, setattr, self.proxy, "delay_s", 0)
            return True
        if fault.kind == "station-delay" and self.station_links:
            for link in self.station_links:
                link.delay_s = self.plan.delay_s
                asyncio.get_running_loop().call_later(fault.hold_s, setattr, link, "delay_s", 0)
            return True
        if fault.kind in ("broker", "controller") and self.cluster:
            return await self._broker_down(fault)
        return False

    def _signal(self, name: str, sig: signal.Signals) -> bool:
        state = self.supervisor.states.get(name)
        if state is None or not state.running or state.process is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            state.process.send_signal(sig)
            return True
        return False

    def _process(self, name: str) -> asyncio.subprocess.Process | None:
        state = self.supervisor.states.get(name)
        return state.process if state else None

    def _later(self, delay: float, work: Callable[[], object]) -> None:
        """``work`` (blocking) in a thread after ``delay`` s, kept until done."""

        async def run() -> None:
            await asyncio.sleep(delay)
            await asyncio.to_thread(work)

        self._keep(run())

    def _keep(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _recovery(
        self,
        kind: str,
        began: float,
        lifted: float,
        killed: asyncio.subprocess.Process | None,
    ) -> None:
        """Records how long until the deployment answered again: for a kill, from the kill
        until a new process of that name says ok on /health; for the other kinds, from the
        fault's end (hold over, server restarted) until every running process says ok."""
        await asyncio.sleep(max(0.0, lifted - time.monotonic()))
        if killed is not None:
            states = [s for s in self.supervisor.states.values() if s.process is killed]
            state = states[0] if states else None
            if state is not None:
                state.health = {"status": "killed"}  # the poll's last answer was the old one's
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while time.monotonic() < deadline:
            if killed is not None and state is not None:
                ok = state.process is not killed and _healthy(state)
            else:
                ok = all(_healthy(s) for s in self.supervisor.states.values() if s.running)
            if ok:
                start = began if killed is not None else lifted
                self.log.recovered(kind, time.monotonic() - start)
                return
            await asyncio.sleep(0.2)

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

    async def _broker_down(self, fault: Fault) -> bool:
        """SIGKILL of one node of the cluster (the active controller, or another one), started
        again after the hold; the driver waits until every partition is fully in sync again,
        so two nodes are never down or behind at once."""
        leader = active_controller(self.cluster)
        if fault.kind == "controller":
            node = next((n for n in self.cluster if n.node_id == leader), None)
        else:
            node = self._rng.choice([n for n in self.cluster if n.node_id != leader])
        pid = None if node is None else procs.read_pid(node.pidfile)
        if node is None or pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(procs.wait_until, lambda: not procs.is_alive(pid), 30, "a kill")
        self.note(f"chaos: Kafka node {node.node_id} ({fault.kind}) killed for {fault.hold_s:.1f}s")
        await asyncio.sleep(fault.hold_s)
        node.pidfile.unlink(missing_ok=True)
        await asyncio.to_thread(node.start, 120)
        await in_sync(",".join(n.bootstrap for n in self.cluster), timeout_s=180)
        return True

    async def _heal(self) -> None:
        """After the faults: everything running and answering again."""
        self._signal("smsc", signal.SIGCONT)
        for link in [*self.station_links, *([self.proxy] if self.proxy else [])]:
            link.delay_s = 0
        for code in self.options.kecamatan:
            await asyncio.to_thread(cups.start_printer, topology.queue(code, self.options))
        if self.postgres is not None and not self.postgres.is_running():
            await asyncio.to_thread(self.postgres.start)
        for node in self.cluster:
            if not node.is_running():
                await asyncio.to_thread(node.start, 120)
        await self.supervisor.wait_healthy(timeout=180)


def _healthy(state: ProcessState) -> bool:
    return state.running and (not state.spec.health_url or state.health.get("status") == "ok")


def active_controller(cluster: Sequence[KafkaNode]) -> int | None:
    """The KRaft quorum's leader, from the nodes' own quorum-state files (the highest epoch
    any node has seen wins)."""
    best: tuple[int, int | None] = (-1, None)
    for node in cluster:
        state = node.home / "data" / "__cluster_metadata-0" / "quorum-state"
        with contextlib.suppress(OSError, ValueError, KeyError):
            data = json.loads(state.read_text())
            if data["leaderEpoch"] > best[0]:
                best = (data["leaderEpoch"], data.get("leaderId"))
    return best[1]


async def in_sync(bootstrap: str, timeout_s: float) -> None:
    """Until every replica of every partition is in sync (a restarted node caught up)."""
    from aiokafka.admin import AIOKafkaAdminClient

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        with contextlib.suppress(Exception):  # a node still starting answers errors
            await admin.start()
            try:
                topics = await admin.describe_topics()
            finally:
                await admin.close()
            if all(len(p["isr"]) == len(p["replicas"]) for t in topics for p in t["partitions"]):
                return
        await asyncio.sleep(1.0)
    raise TimeoutError(f"partitions not in sync after {timeout_s:.0f}s")
