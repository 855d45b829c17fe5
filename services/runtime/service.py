"""Running one service process: migrations, topics, consume loops, the relay, HTTP, SIGTERM.

``run`` composes the pieces a stage names; it is a function, not a base class. A stage's
``__main__`` builds its settings, handlers and FastAPI app, then calls ``asyncio.run(run(...))``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg

from services.runtime import db, kafka
from services.runtime.consumer import Consumer, ConsumerConfig, Handler, Parser
from services.runtime.errors import RIDE_THROUGH_RETRIES, GiveUp, is_transient, retrying
from services.runtime.health import Health
from services.runtime.outbox import Relay

log = logging.getLogger("tuntas.service")
STARTUP_RETRIES = 20  # about a minute of waiting for the database at start
RAN_WELL_S = 60.0  # a background job that ran this long before failing starts a fresh count


@dataclass(frozen=True)
class Subscription:
    """One consume loop: these topics, this handler, in this consumer group."""

    topics: Sequence[str]
    handler: Handler[Any]
    group_id: str
    name: str = "consumer"


@dataclass
class Runtime:
    """What a running service holds; handed to hooks and to the HTTP app (whose copy may hold
    the API pool as ``pool``: ``run(fail_closed_http=True)``)."""

    service: str
    schema: str
    pool: asyncpg.Pool
    producer: Any
    relay: Relay
    health: Health
    stop: asyncio.Event
    bootstrap: str
    extra: dict[str, Any] = field(default_factory=dict)


Hook = Callable[[Runtime], Awaitable[None]]


async def run(
    *,
    service: str,
    schema: str,
    dsn: str,
    bootstrap: str,
    migrations: Path | None,
    topics: Sequence[tuple[str, int]],
    subscriptions: Sequence[Subscription],
    parse: Parser[Any],
    batch_size: int = 500,
    background: Sequence[Callable[[Runtime], Awaitable[None]]] = (),
    http: Callable[[Runtime], Any] | None = None,
    http_host: str = "127.0.0.1",
    http_port: int = 0,
    stop: asyncio.Event | None = None,
    on_ready: Hook | None = None,
    consumer_options: Mapping[str, Any] | None = None,
    fail_closed_http: bool = False,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``); raise ``GiveUp`` after exhausted retries.

    On stop, each consume loop finishes its batch, commits its offsets and leaves its group;
    then the relay publishes what they committed, and the process exits. ``consumer_options``
    are :class:`ConsumerConfig` fields (retries, backoff, session timeout, …).
    ``fail_closed_http``: the HTTP app gets a small pool of its own whose sessions see no row
    of a kecamatan until a transaction is scoped, so a route that forgets ``caller_scope()``
    reads and writes nothing; the handlers, relay and loops keep the all-kecamatan pool.
    """
    options = dict(consumer_options or {})
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    # A database still starting (restarted after a crash, or with the whole host) is waited
    # for here rather than exiting: each exit costs a supervisor restart and its backoff.
    conn = await retrying(
        f"start:{schema}",
        lambda: db.connect(dsn, schema),
        max_retries=STARTUP_RETRIES,
        backoff_base=0.5,
        backoff_max=5.0,
    )
    try:
        await db.migrate(conn, schema, *([migrations] if migrations else []))
    finally:
        await conn.close()
    await kafka.ensure_topics(bootstrap, [*topics, *((f"{t}.dlq", 1) for t, _ in topics)])

    pool = await db.create_pool(dsn, schema, max_size=10)
    producer = kafka.producer(bootstrap)
    await producer.start()
    health = Health(service)
    retry = {k: options[k] for k in ("max_retries", "backoff_base", "backoff_max") if k in options}
    relay = Relay(pool, producer, schema, batch_size=batch_size, **retry)
    relay_stop = asyncio.Event()  # set once the consume loops are done: the relay drains last
    runtime = Runtime(service, schema, pool, producer, relay, health, stop, bootstrap)
    health.relays.append(relay)

    tasks: dict[str, asyncio.Task[None]] = {}
    pools = [pool]

    def launch(name: str, coro: Awaitable[None]) -> None:
        health.loops[name] = True
        task = asyncio.ensure_future(coro)
        tasks[name] = task

        def done(t: asyncio.Task[None]) -> None:
            health.loops[name] = False
            if t.cancelled():
                return
            error = t.exception()
            if error is not None:
                health.stopped[name] = f"failed: {error!r}"
                log.error("%s stopped: %r", name, error)
                stop.set()  # one loop failing stops the process; the supervisor restarts it
            elif not stop.is_set():  # loops return by themselves only on shutdown
                health.stopped[name] = "returned while the service runs"
                log.error("%s returned while the service runs: /health answers 503", name)

        task.add_done_callback(done)

    try:
        launch("relay", relay.run(relay_stop))
        for sub in subscriptions:
            config = ConsumerConfig(
                service, sub.group_id, sub.topics, bootstrap, max_batch=batch_size, **options
            )
            consumer: Consumer[Any] = Consumer(config, pool, sub.handler, parse, producer, relay)
            health.consumers.append(consumer)
            launch(sub.name, consumer.run(stop))
        for job in background:
            name = getattr(job, "__name__", "background")
            launch(name, _riding_through(name, job, runtime))
        if http is not None and http_port >= 0:
            listening = asyncio.Event()
            app = http(await _http_runtime(runtime, dsn, pools) if fail_closed_http else runtime)
            launch("http", _serve(app, http_host, http_port, stop, runtime, listening))
            # on_ready callers (tests, the supervisor) may use runtime.extra["http_port"].
            await _first(listening, stop)
        if on_ready is not None:
            await on_ready(runtime)
        await stop.wait()
        loops = [task for name, task in tasks.items() if name != "relay"]
        results = await asyncio.gather(*loops, return_exceptions=True)
        relay_stop.set()
        results += await asyncio.gather(tasks["relay"], return_exceptions=True)
        failures = [
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
        ]
        for failure in failures:
            if isinstance(failure, GiveUp):
                raise failure
        if failures:
            raise failures[0]
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        await producer.stop()
        await asyncio.gather(*(p.close() for p in pools))


async def _riding_through(
    name: str, job: Callable[[Runtime], Awaitable[None]], runtime: Runtime
) -> None:
    """Run a background job (a sender, a poller, the station's production loop); when the
    database or the broker goes away under it, start it again after a backoff, as the relay
    and the consume loops retry, instead of stopping the process. Past ``RIDE_THROUGH_RETRIES``
    failures in a row (a run of a minute or more starts the count afresh), or on any other
    error, it fails and the process stops for its supervisor to restart."""
    loop = asyncio.get_running_loop()
    failures = 0
    while True:
        began = loop.time()
        try:
            await job(runtime)
            return
        except Exception as error:
            if not is_transient(error):
                raise
            failures = 1 if loop.time() - began >= RAN_WELL_S else failures + 1
            if failures > RIDE_THROUGH_RETRIES:
                raise GiveUp(f"{name}: gave up after {failures - 1} restarts: {error!r}") from error
            delay = min(5.0, 0.2 * 2**failures) * random.uniform(0.5, 1.0)
            log.warning("%s: %r; starting it again in %.2fs", name, error, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(runtime.stop.wait(), delay)
            if runtime.stop.is_set():
                return


async def _http_runtime(runtime: Runtime, dsn: str, pools: list[asyncpg.Pool]) -> Runtime:
    """The HTTP app's runtime: the same, but its pool's sessions default to no scope."""
    api_pool = await db.create_pool(dsn, runtime.schema, max_size=5, scope=db.NO_KECAMATAN)
    pools.append(api_pool)
    return replace(runtime, pool=api_pool)


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _serve(
    app: Any,
    host: str,
    port: int,
    stop: asyncio.Event,
    runtime: Runtime,
    listening: asyncio.Event,
) -> None:
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    # The process's own SIGTERM handler stops everything; uvicorn must not capture signals.
    serving = asyncio.ensure_future(server._serve())
    while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has no event)
        await asyncio.sleep(0.02)
    if server.started:
        sockets = [s for srv in server.servers for s in srv.sockets]
        runtime.extra["http_port"] = sockets[0].getsockname()[1] if sockets else port
    listening.set()
    if serving.done():
        await serving  # failed to bind: raise why
        raise RuntimeError(f"HTTP server on {host}:{port} stopped at start")
    await stop.wait()
    server.should_exit = True
    await serving


def main(service: str, log_level: str, start: Callable[[], Coroutine[Any, Any, None]]) -> int:
    """A stage's ``python -m`` entry: JSON logs, run until stopped, exit 1 (reason logged)
    when transient failures outlasted the retries, so the supervisor restarts it."""
    from services.runtime import logs

    logs.configure(service, log_level)
    try:
        asyncio.run(start())
    except GiveUp as error:
        log.error("giving up: %s", error)
        return 1
    return 0
