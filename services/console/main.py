"""Running the console: ``serve(settings)`` starts its web server and the live-queue follower."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from services.console import screens
from services.console.auth import Login
from services.console.live import Nudges, follow
from services.console.pages import Console, templates
from services.console.settings import ConsoleSettings
from services.console.stages import Stages
from services.console.web import create_app
from services.runtime.auth import TokenVerifier, oidc_settings

log = logging.getLogger("tuntas.console")


@dataclass
class Running:
    """What ``on_ready`` is given: the bound port (``extra["http_port"]``, as a stage's)."""

    console: Console
    nudges: Nudges
    extra: dict[str, Any] = field(default_factory=dict)


async def serve(
    settings: ConsoleSettings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Running], Awaitable[None]] | None = None,
) -> None:
    stop = stop or asyncio.Event()
    oidc = oidc_settings()
    verifier = TokenVerifier.from_settings(oidc)
    login = Login(settings, oidc.discovery(), verifier)
    console = Console(settings, login, Stages(settings), templates(), screens.menu())
    nudges = Nudges()
    app = create_app(console, nudges, stop)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=5,  # open live streams end with the process
    )
    server = uvicorn.Server(config)
    loop = asyncio.get_running_loop()
    for sig in ("SIGTERM", "SIGINT"):
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            import signal

            loop.add_signal_handler(getattr(signal, sig), stop.set)
    serving = asyncio.ensure_future(server._serve())  # the process's own handler stops it
    following = asyncio.ensure_future(follow(settings, nudges, stop)) if settings.live else None
    try:
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.02)
        if serving.done():
            await serving
            raise RuntimeError(f"console HTTP server on port {settings.http_port} stopped at start")
        running = Running(console, nudges)
        sockets = [s for srv in server.servers for s in srv.sockets]
        running.extra["http_port"] = sockets[0].getsockname()[1] if sockets else settings.http_port
        log.info("console on http://%s:%s", settings.http_host, running.extra["http_port"])
        if on_ready is not None:
            await on_ready(running)
        await stop.wait()
    finally:
        stop.set()
        server.should_exit = True
        await asyncio.gather(serving, *([following] if following else []), return_exceptions=True)
        await console.stages.close()
