"""The stages the console's screens call (intake, validation) and the console itself, served
in-process on a loop of their own in a background thread, so the synchronous browser tests
can drive them while they keep answering."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import httpx

from services.console.main import Running
from services.console.main import serve as console_serve
from services.console.settings import ConsoleSettings
from services.intake.main import serve as intake_serve
from services.intake.settings import IntakeSettings
from services.validation.main import serve as validation_serve
from services.validation.settings import ValidationSettings
from tests.kit.stage import connections, serving
from tests.waiting import wait_for

T = TypeVar("T")


@asynccontextmanager
async def _console(settings: ConsoleSettings) -> AsyncIterator[Running]:
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()

    async def on_ready(running: Running) -> None:
        ready.set_result(running)

    task = asyncio.ensure_future(console_serve(settings, stop=stop, on_ready=on_ready))
    try:
        done, _ = await asyncio.wait([task, ready], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        yield await ready
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@dataclass
class Stack:
    kafka: str
    dsn: str
    issuer: str
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}.")
    schemas: list[str] = field(default_factory=list)
    intake_url: str = ""
    validation_url: str = ""
    console_url: str = ""
    running: Running | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None
    _started: threading.Event = field(default_factory=threading.Event)
    _failure: BaseException | None = None
    _beside: AsyncExitStack | None = None  # stages a test starts later, closed at stop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="console-stack", daemon=True)
        self._thread.start()
        if not self._started.wait(180):
            raise AssertionError("the console's stack did not start in 180 s")
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(90)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` on the stack's loop (calls to the stages, waits) and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def beside(self, served: AbstractAsyncContextManager[T]) -> T:
        """Serve one more stage on the stack's loop until the session ends."""

        async def enter() -> T:
            assert self._beside is not None
            return await self._beside.enter_async_context(served)

        return self.run(enter(), timeout=180)

    def point(self, **console_urls: Any) -> None:
        """Point the console at a stage served beside (``biometric_url=…``, its settings'
        names): each request's stage calls read the settings anew."""
        assert self.running is not None
        stages = self.running.console.stages
        stages.settings = stages.settings.model_copy(update=console_urls)

    def new_schema(self) -> str:
        """A database schema of its own, dropped at the end."""
        return self._schema()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with AsyncExitStack() as stack:
                self._beside = stack
                conns = connections(self.kafka, self.dsn, self.prefix)
                intake = await stack.enter_async_context(
                    serving(
                        intake_serve,
                        IntakeSettings(db_schema=self._schema(), http_port=0, connections=conns),
                    )
                )
                validation = await stack.enter_async_context(
                    serving(
                        validation_serve,
                        ValidationSettings(
                            db_schema=self._schema(), http_port=0, connections=conns
                        ),
                    )
                )
                self.intake_url = str(intake.http.base_url).rstrip("/")
                self.validation_url = str(validation.http.base_url).rstrip("/")
                settings = ConsoleSettings(
                    http_port=0,
                    connections=conns,
                    intake_url=self.intake_url,
                    validation_url=self.validation_url,
                    session_secret="test-only-session-secret",
                )
                self.running = await stack.enter_async_context(_console(settings))
                self.console_url = f"http://127.0.0.1:{self.running.extra['http_port']}"
                nudges = self.running.nudges
                await wait_for(
                    lambda: nudges.following, what="the console's live consumer", timeout=60
                )
                self._started.set()
                await self._stop.wait()
        except BaseException as error:
            self._failure = error
            self._started.set()
        finally:
            await self._drop_schemas()

    def _schema(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.schemas.append(name)
        return name

    async def _drop_schemas(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            for name in self.schemas:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()

    def api(self, base: str, auth: httpx.Auth) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, auth=auth, timeout=30)
