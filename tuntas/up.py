"""`tuntas up`: the local stack, every stage, one station per kecamatan, supervised, with a live
status view; Ctrl-C stops it all cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import AsyncIterator, Collection
from urllib.parse import urlsplit

from rich.live import Live
from rich.table import Table

from tuntas import topology
from tuntas.stack import local, prereq, principals, station_clients
from tuntas.stack.errors import StackError
from tuntas.supervisor import Supervisor


@contextlib.asynccontextmanager
async def running(
    options: topology.Options, config: local.StackConfig, only: Collection[str] | None = None
) -> AsyncIterator[Supervisor]:
    """Everything up and healthy for the duration of the block, then stopped. ``only``: just
    the processes of these names (a benchmark of one stage)."""
    for port, what in sorted(topology.listening_ports(options).items()):
        prereq.require_free_port(port, what)
    endpoints = await identified(config, options.kecamatan)
    if options.database:
        endpoints = await own_database(endpoints, options.database)
    await principals.prepare(endpoints, options.topic_prefix, options.kecamatan)
    # the card stations' readers and printers, unless only other processes run
    hardware = only is None or any(name.startswith("station-") for name in only)
    if hardware:
        await asyncio.to_thread(topology.prepare_hardware, options)
    try:
        specs = topology.processes(endpoints, options)
        if only is not None:
            specs = [spec for spec in specs if spec.name in only]
        supervisor = Supervisor(specs, topology.outputs(options) / "logs")
        await supervisor.start()
        try:
            # 2 minutes, more for a big deployment (25 processes at 5 offices on 2 cores)
            await supervisor.wait_healthy(timeout=max(120.0, 10.0 * len(supervisor.states)))
            yield supervisor
        finally:
            await supervisor.stop()
    finally:
        if hardware:
            await asyncio.to_thread(topology.release_hardware, options)


async def identified(config: local.StackConfig, kecamatan: tuple[str, ...]) -> local.Endpoints:
    """The stack with its identity provider (every stage verifies tokens): the local Keycloak,
    with a card station client for each kecamatan, or the external ``TUNTAS_OIDC_ISSUER``."""
    endpoints = await asyncio.to_thread(local.up, config, True)
    if not endpoints.oidc_issuer:
        raise StackError(
            "no identity provider: set TUNTAS_OIDC_ISSUER or TUNTAS_KEYCLOAK_PORT"
            " (docs/identity.md)"
        )
    if config.keycloak() is not None:
        await asyncio.to_thread(station_clients.ensure, endpoints.oidc_issuer, kecamatan)
    return endpoints


async def own_database(endpoints: local.Endpoints, name: str) -> local.Endpoints:
    """The same server, database ``name`` (created when missing)."""
    import asyncpg

    conn = await asyncpg.connect(endpoints.database_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = urlsplit(endpoints.database_url)._replace(path=f"/{name}").geturl()
    return dataclasses.replace(endpoints, database_url=dsn)


async def drop_topics(bootstrap: str, prefix: str) -> int:
    """Delete every topic under ``prefix`` (a run's): a single local broker's heap fills up
    with the partitions of runs nobody looks at any more. Returns how many."""
    from aiokafka.admin import AIOKafkaAdminClient

    if not prefix:
        raise ValueError("refusing to delete topics without a run prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        for start in range(0, len(names), 50):
            await admin.delete_topics(names[start : start + 50])
    finally:
        await admin.close()
    return len(names)


async def drop_database(server_dsn: str, name: str) -> None:
    """Drop a run's own database (see ``Options.database``)."""
    import asyncpg

    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def status_table(supervisor: Supervisor) -> Table:
    table = Table(title="Tuntas — services", expand=False)
    for column in ("process", "state", "restarts", "handled", "lag", "dead letters", "queues"):
        table.add_column(column)
    for name, state in supervisor.states.items():
        health = state.health
        if not state.running:
            shown = "[red]down[/]"
        elif health.get("status") == "ok" or not state.spec.health_url:
            shown = "[green]up[/]"
        else:
            shown = f"[yellow]{health.get('status', 'starting')}[/]"
        queues = {k: v for k, v in health.items() if k.startswith("queue")}
        table.add_row(
            name,
            shown,
            str(state.restarts),
            str(health.get("handled", "")),
            str(health.get("lag", "")),
            str(health.get("dead_letters", "")),
            " ".join(f"{k}={v}" for k, v in queues.items()),
        )
    return table


async def run(options: topology.Options) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running(options, local.StackConfig.from_env()) as supervisor:
        print(topology.console_banner(options))
        with Live(status_table(supervisor), refresh_per_second=2) as live:
            while not stop.is_set():
                live.update(status_table(supervisor))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
    return 0
