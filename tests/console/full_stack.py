"""The whole local stack as ``tuntas up`` runs it (every stage, the card station with its
pcscd/CUPS, the capture device and SMSC simulators, and the console as its own process) for
the console's end-to-end tests: the all-roles flow and the dashboard."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from tests.console.browser import Browser, logged_in
from tests.kit.tokens import As
from tuntas import topology, up
from tuntas.stack import local

T = TypeVar("T")
# Beside a running `tuntas up` and the other suites' stacks (demo 600, chaos 650-700, bench
# 1000-1700, kills 2300-2400): this fixture lives for the whole session, so its ports must not
# be one a later test takes without looking (test_bench's 1700 did, and its run saw nothing).
# The first offset whose ports are free, so two runs of tests/console at once do not collide.
OFFSETS = range(2600, 3200, 50)


def _free_offset() -> int:
    bases = [*topology.PORTS.values(), topology.CONSOLE_PORT, topology.STATION_BASE_PORT]
    bases += [topology.SMSC_PORT, topology.OFFICE_SMTP_PORT, topology.MAIL_RELAY_PORT]
    bases += [topology.CAPTURE_DEVICES_PORT, topology.LAPOR_PORT]
    for offset in OFFSETS:
        if all(_free(base + offset) for base in bases):
            return offset
    raise AssertionError("no free port offset for the console's full stack")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class FullStack:
    options: topology.Options
    issuer: str
    loop: asyncio.AbstractEventLoop

    @property
    def console_url(self) -> str:
        return topology.console_url(self.options)

    def url(self, service: str) -> str:
        return topology.url(service, self.options)

    def station(self, kecamatan: str = topology.TEMPEH) -> str:
        return topology.station_url(self.options.kecamatan.index(kecamatan), self.options)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@pytest.fixture(scope="session")
def full_stack(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, pg_dsn: str, oidc_issuer: str
) -> Iterator[FullStack]:
    # The session's Kafka, PostgreSQL and IdP: on a fresh machine nothing else runs, and a
    # stack of its own would take the local stack's fixed ports (and a second broker's heap).
    config = dataclasses.replace(
        local.StackConfig.from_env(),
        external_kafka=kafka_bootstrap,
        external_db=pg_dsn,
        external_oidc=oidc_issuer,
    )
    name = f"console-{uuid.uuid4().hex[:8]}"
    options = topology.Options(
        home=config.home,
        kecamatan=(topology.TEMPEH,),
        topic_prefix=f"{name}.",
        database=name.replace("-", "_"),
        run_name=name,
        port_offset=_free_offset(),
    )
    started = threading.Event()
    stop: list[asyncio.Event] = []
    failure: list[BaseException] = []
    holder: list[FullStack] = []

    async def serve() -> None:
        stop.append(asyncio.Event())
        try:
            async with up.running(options, config):
                holder.append(FullStack(options, oidc_issuer, asyncio.get_running_loop()))
                started.set()
                await stop[0].wait()
        except BaseException as error:
            failure.append(error)
            started.set()
        finally:
            await _drop(config, options)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    started.wait(300)
    if failure or not holder:
        raise AssertionError(f"the full stack did not start: {failure!r}")
    try:
        yield holder[0]
    finally:
        holder[0].loop.call_soon_threadsafe(stop[0].set)
        thread.join(120)


async def _drop(config: local.StackConfig, options: topology.Options) -> None:
    """The run's topics and database go (a local broker's heap fills up otherwise)."""
    assert options.database is not None
    endpoints = await asyncio.to_thread(local.up, config)
    server = urlsplit(endpoints.database_url)._replace(path="/postgres").geturl()
    await up.drop_topics(endpoints.kafka_bootstrap, options.topic_prefix)
    await up.drop_database(server, options.database)


@pytest.fixture(scope="session")
def full_browser_as(full_stack: FullStack) -> Iterator[Callable[[str], Browser]]:
    """``full_browser_as("camat.tempeh")``: that user's browser on the full stack's console."""
    with logged_in(full_stack.console_url) as open_as:
        yield open_as


def staff_api(full_stack: FullStack, service_url: str, username: str) -> httpx.AsyncClient:
    """A stage's API as ``username`` (the steps a screen does not do yet)."""
    return httpx.AsyncClient(base_url=service_url, auth=As(full_stack.issuer, username), timeout=60)
