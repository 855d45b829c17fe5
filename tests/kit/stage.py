"""A stage's ``serve()`` run in-process against the session's Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from services.runtime.service import Runtime
from services.runtime.settings import Connections
from tests.waiting import wait_for


def connections(kafka_bootstrap: str, pg_dsn: str, topic_prefix: str) -> Connections:
    """A stage's connections from the session fixtures."""
    return Connections(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=pg_dsn,
        tuntas_topic_prefix=topic_prefix,
    )


@dataclass
class Served:
    runtime: Runtime
    http: httpx.AsyncClient  # the stage's API, on the port it chose


Serve = Callable[..., Awaitable[None]]


@asynccontextmanager
async def serving(
    serve: Serve, settings: Any, *, timeout: float = 90.0, **extra: Any
) -> AsyncIterator[Served]:
    """``serve(settings, stop=..., on_ready=..., **extra)`` until the block ends; inside, the
    runtime is ready and its HTTP port open. A start-up failure is raised, not waited out."""
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        ready.set_result(runtime)

    task = asyncio.ensure_future(serve(settings, stop=stop, on_ready=on_ready, **extra))
    try:
        done, _ = await asyncio.wait(
            [task, ready], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            task.result()  # raises the start-up failure
        runtime = await asyncio.wait_for(asyncio.shield(ready), 1)
        port = await wait_for(lambda: runtime.extra.get("http_port"), what="the HTTP port")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Served(runtime, http)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
