"""``tuntas chaos``: the demo's working day while a seeded fault driver hurts the deployment,
then the checks over the database, the topics and the devices' outputs (``make chaos``).

The day is the demo's (:mod:`tuntas.demo`): same scenario mix, same autopilot acting through
the staff APIs. :mod:`tuntas.chaos.faults` kills and freezes processes, stops the printers and,
when the run owns its PostgreSQL (``--own-postgres``), stops the server as ``pg_ctl -m
immediate`` does. :mod:`tuntas.chaos.checks` then says whether every application ended in
one state and every effect happened at most once. One line sums it up at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console

from schemas.topics import Topics
from tuntas import topology, up
from tuntas.chaos import accounts, checks, faults, fuzz
from tuntas.chaos.proxy import DelayProxy
from tuntas.demo.autopilot import DemoError
from tuntas.demo.run import DemoOptions, kecamatan_names, run_demo
from tuntas.demo.scenario import DEFAULT_KECAMATAN
from tuntas.stack import local, prereq
from tuntas.stack.postgres import PostgresNode
from tuntas.supervisor import Supervisor

CHAOS_PORT_OFFSET = 700  # beside `tuntas up` (0), the demo tests (600) and the bench (1000)


@dataclass(frozen=True)
class ChaosOptions:
    applicants: int = 2000
    kecamatan: int = 5
    seed: int = 21
    mean_interval_s: float = 2.5
    day_s: float = 1800.0
    timeout_s: float = 3600.0
    out: Path | None = None
    port_offset: int = CHAOS_PORT_OFFSET
    kills_per_round: int = 2
    min_rounds: int = 20  # done even if the day ends sooner: 1,000 kills of 25 processes


@dataclass
class ChaosResult:
    seconds: float
    applications: int
    faults: dict[str, int]
    restarts: dict[str, int]
    outages: int
    checks: list[checks.Check]
    recovery: dict[str, dict[str, float]] = field(default_factory=dict)
    # connections the card stations made to the broker through the station link's proxies
    station_link_connections: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def summary(self) -> str:
        failed = [c.name for c in self.checks if not c.ok]
        kills = sum(n for k, n in self.faults.items() if k in ("kill", "reader-removed"))
        verdict = "all checks passed" if not failed else f"FAILED: {'; '.join(failed)}"
        return (
            f"chaos: {self.applications} applications, {sum(self.faults.values())} faults"
            f" ({kills} kills, {self.restarts_total} restarts, {self.outages} outages ridden"
            f" through) in {self.seconds:.0f}s: {verdict}"
        )

    @property
    def restarts_total(self) -> int:
        return sum(self.restarts.values())

    def document(self, opts: ChaosOptions) -> dict[str, Any]:
        return {
            "options": {k: str(v) for k, v in opts.__dict__.items()},
            "seconds": round(self.seconds, 1),
            "applications": self.applications,
            "faults": self.faults,
            "restarts": self.restarts,
            "outages_ridden_through": self.outages,
            "recovery": self.recovery,
            "station_link_connections": self.station_link_connections,
            "checks": [
                {"name": c.name, "figure": c.figure, "problems": c.problems} for c in self.checks
            ],
            "summary": self.summary(),
        }


def offices(count: int) -> tuple[str, ...]:
    """``count`` kecamatan: the demo's offices first (the realm has their staff), then the
    others of the kabupaten (:mod:`tuntas.chaos.accounts` adds their accounts)."""
    from tuntas.bench import kecamatan_codes

    every = kecamatan_codes(len(kecamatan_names()))
    return tuple(dict.fromkeys([*DEFAULT_KECAMATAN, *every]))[:count]


@dataclass(frozen=True)
class OwnPostgres:
    """The run's own server and the port its clients use: a :class:`DelayProxy` in front."""

    node: PostgresNode
    client_port: int


@contextlib.contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL server of the run's own on a free port (the shared one is never
    stopped), reached through the delay proxy's port: the environment points the run at it
    while the block lasts. Without ``KAFKA_BOOTSTRAP_SERVERS`` the run's Kafka is its own too,
    on free ports unless TUNTAS_KAFKA_PORT is set (TUNTAS_KAFKA_NODES=3: a cluster whose nodes
    the run also kills), with a listener of the stations' own behind a link the run delays."""
    home = Path(tempfile.mkdtemp(prefix="tuntas-chaos-"))
    node = PostgresNode(home / "postgres", prereq.free_port())
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "TUNTAS_HOME", "TUNTAS_PG_PORT")}
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and "TUNTAS_KAFKA_PORT" not in os.environ:
        base = prereq.free_block(9)  # up to three nodes × (plain, controller, SASL), node i at +3·i
        names = ("TUNTAS_KAFKA_PORT", "TUNTAS_KAFKA_CONTROLLER_PORT", "TUNTAS_KAFKA_SASL_PORT")
        saved |= {k: None for k in names}
        os.environ.update({k: str(base + i) for i, k in enumerate(names)})
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and "TUNTAS_KAFKA_STATION_PORT" not in (
        os.environ
    ):  # the stations' listener and its link port, per node (the link is delayed at random)
        saved["TUNTAS_KAFKA_STATION_PORT"] = None
        os.environ["TUNTAS_KAFKA_STATION_PORT"] = str(prereq.free_block(6))
    if not os.environ.get("TUNTAS_OIDC_ISSUER") and "TUNTAS_KEYCLOAK_PORT" not in os.environ:
        saved["TUNTAS_KEYCLOAK_PORT"] = None  # a Keycloak of its own too
        os.environ["TUNTAS_KEYCLOAK_PORT"] = str(prereq.free_port())
    os.environ.pop("DATABASE_URL", None)
    os.environ["TUNTAS_HOME"] = str(home)
    proxy_port = prereq.free_port()
    os.environ["TUNTAS_PG_PORT"] = str(proxy_port)  # what the stack and the stages connect to
    try:
        node.start()
        yield OwnPostgres(node, proxy_port)
    finally:
        local.down(local.StackConfig.from_env())  # what the run started in its home
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def run(
    opts: ChaosOptions, own: OwnPostgres | None = None, console: Console | None = None
) -> ChaosResult:
    """The day, the faults and the checks. With ``own`` (:func:`own_postgres`) the run also
    stops its PostgreSQL and delays its traffic, and kills the nodes of its own 3-node Kafka
    cluster; the shared stack's are never touched."""
    say = console or Console()
    config = local.StackConfig.from_env()
    out = opts.out or config.home / "chaos"
    out.mkdir(parents=True, exist_ok=True)
    log = faults.FaultLog(out / "faults.jsonl")
    log.path.write_text("")
    plan = faults.FaultPlan(
        opts.seed,
        mean_interval_s=opts.mean_interval_s,
        kills_per_round=opts.kills_per_round,
        min_rounds=opts.min_rounds,
    )
    kecamatan = offices(opts.kecamatan)
    issuer = config.oidc_issuer()
    if issuer and set(kecamatan) - set(DEFAULT_KECAMATAN):
        await asyncio.to_thread(accounts.ensure, issuer, kecamatan)
    cluster = config.kafka_cluster() if own and not config.external_kafka else []
    proxy = DelayProxy(own.client_port, own.node.port) if own else None
    # the offices' link to the broker: the stations reach each node through one of these
    links = [
        DelayProxy(n.station_link_port, n.station_port)
        for n in cluster
        if n.station_port is not None and n.station_link_port is not None
    ]
    supervisors: list[Supervisor] = []

    @contextlib.asynccontextmanager
    async def hurt(supervisor: Supervisor, options: topology.Options) -> AsyncIterator[object]:
        supervisors.append(supervisor)
        driver = faults.Driver(
            plan,
            supervisor,
            options,
            log,
            postgres=own.node if own else None,
            proxy=proxy,
            cluster=cluster,
            station_links=links,
            note=say.print,
        )
        async with driver.running():
            yield None

    began = time.monotonic()
    async with contextlib.AsyncExitStack() as running:
        for link in [*links, *([proxy] if proxy else [])]:
            await running.enter_async_context(link)
        result = await run_demo(
            DemoOptions(
                applicants=opts.applicants,
                kecamatan=kecamatan,
                seed=opts.seed,
                day_s=opts.day_s,
                timeout_s=opts.timeout_s,
                out=out / "report",
                progress=False,
                keep=True,  # the checks read them; removed after
                port_offset=opts.port_offset,
                # Beyond the demo's three offices, every office alike: Tempeh's single card
                # station with 1,000 of 2,000 cards was the large run's critical path.
                even=len(kecamatan) > 3,
            ),
            console=say,
            during=hurt,
        )
        seconds = time.monotonic() - began
        options = result.options
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or config.kafka().bootstrap
        found = await checks.run_all(
            result.endpoints_db,
            bootstrap,
            Topics(options.topic_prefix),
            options.kecamatan,
            topology.outputs(options),
            topology.sms_log(options),
        )
        restarts = {n: s.restarts for n, s in supervisors[0].states.items()} if supervisors else {}
        outages = sum(1 for _, text in result.report.moments if "answering again" in text)
        chaos = ChaosResult(
            seconds,
            len(result.plan.visitors),
            dict(log.counts()),
            restarts,
            outages,
            found,
            log.recovery_figures(),
            sum(link.connections for link in links),
        )
        for check in found:
            say.print(check.line())
        (out / "chaos.json").write_text(json.dumps(chaos.document(opts), indent=2))
        assert options.database is not None
        await up.drop_topics(bootstrap, options.topic_prefix)
        server = urlsplit(result.endpoints_db)._replace(path="/postgres").geturl()
        await up.drop_database(server, options.database)
        return chaos


async def _fuzz(opts: ChaosOptions, examples: int, own: OwnPostgres | None) -> int:
    """``--fuzz N``: the fuzzer over a deployment of the run's own; one JSON line of figures."""
    config = local.StackConfig.from_env()
    out = opts.out or config.home / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    name = f"fuzz-{os.getpid()}"
    options = topology.Options(
        home=config.home,
        topic_prefix=f"{name}.",
        database=name.replace("-", "_"),
        run_name=name,
        port_offset=opts.port_offset,
        smsc_port=topology.SMSC_PORT,
    )
    issuer = config.oidc_issuer()
    assert issuer, "no identity provider"
    proxy = DelayProxy(own.client_port, own.node.port) if own else None
    began = time.monotonic()
    async with proxy or contextlib.nullcontext():
        found, result = await fuzz.every_stage(options, issuer, (examples, examples), out)
    figures = json.loads(fuzz.summary(result))
    figures |= {"routes": len(found), "seconds": round(time.monotonic() - began)}
    (out / "fuzz.json").write_text(json.dumps(figures | result.__dict__, indent=2))
    print(json.dumps(figures))
    return 0 if not result.server_errors and not result.wrongly_accepted else 2


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("chaos", help="a demo day under seeded faults, then the checks")
    d = ChaosOptions()
    p.add_argument("--applicants", type=int, default=d.applicants)
    p.add_argument("--kecamatan", type=int, default=d.kecamatan, help="how many offices")
    p.add_argument("--seed", type=int, default=d.seed, help="the day's and the faults' seed")
    p.add_argument(
        "--mean-interval", type=float, default=d.mean_interval_s, help="s between faults"
    )
    p.add_argument("--kills-per-round", type=int, default=d.kills_per_round)
    p.add_argument(
        "--min-rounds", type=int, default=d.min_rounds, help="rounds of faults done at least"
    )
    p.add_argument("--day-seconds", type=float, default=d.day_s)
    p.add_argument("--timeout", type=float, default=d.timeout_s)
    p.add_argument("--out", type=Path, help="results folder (default: $TUNTAS_HOME/chaos)")
    p.add_argument(
        "--own-postgres",
        action="store_true",
        help="run on a PostgreSQL of its own (free port, temp folder) and stop it at random",
    )
    p.add_argument(
        "--port-offset",
        type=int,
        default=d.port_offset,
        help="added to every port of the run's deployment: another offset runs it beside one",
    )
    p.add_argument(
        "--fuzz",
        type=int,
        metavar="N",
        help="instead of the day: fuzz every route of every stage, N examples per operation",
    )
    p.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    opts = ChaosOptions(
        applicants=args.applicants,
        kecamatan=args.kecamatan,
        seed=args.seed,
        mean_interval_s=args.mean_interval,
        day_s=args.day_seconds,
        timeout_s=args.timeout,
        out=args.out,
        kills_per_round=args.kills_per_round,
        min_rounds=args.min_rounds,
        port_offset=args.port_offset,
    )
    with own_postgres() if args.own_postgres else contextlib.nullcontext() as own:
        if args.fuzz:
            return asyncio.run(_fuzz(opts, args.fuzz, own))
        try:
            result = asyncio.run(run(opts, own))
        except DemoError as error:
            print(f"tuntas chaos: the day did not survive: {error}", file=sys.stderr)
            return 1
    print(result.summary())
    return 0 if result.ok else 2
