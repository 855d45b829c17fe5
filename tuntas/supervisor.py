"""Runs the service processes: start, watch, restart on crash with backoff, stop cleanly.

Each process is a plain OS process (``python -m services.<stage>``); its health is read from
its own ``/health`` HTTP endpoint, as any operator's tool would. On Linux each is started
through util-linux's ``setpriv --pdeathsig TERM``: a supervisor that is killed (SIGKILL, an
interrupted test run) takes its processes with it instead of leaving them holding their ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    health_url: str | None = None


def _ending_with_us(argv: Sequence[str]) -> list[str]:
    """``argv`` asked to receive SIGTERM when the supervisor ends (setpriv execs in place:
    the same pid, so signals and health are the process's own)."""
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else list(argv)


@dataclass
class ProcessState:
    spec: ProcessSpec
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0  # starts after a crash (a planned restart is not one)
    failures: int = 0  # crashes since the process last answered healthy: the backoff's step
    last_exit: int | None = None
    health: dict[str, Any] = field(default_factory=dict)
    started_at: float = 0.0
    planned_restart: bool = False  # the operator asked for it: not a crash, no backoff

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        log_dir: Path,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.states = {s.name: ProcessState(s) for s in specs}
        self._log_dir = log_dir
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        for state in self.states.values():
            self._tasks.append(asyncio.ensure_future(self._keep_running(state)))
        self._tasks.append(asyncio.ensure_future(self._poll_health()))

    async def wait_healthy(self, timeout: float = 120.0) -> None:
        """Until every process with a health URL says ok; raise naming the laggards."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [
                s.spec.name
                for s in self.states.values()
                if s.spec.health_url and s.health.get("status") != "ok"
            ]
            if not pending:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(
            f"not healthy after {timeout:.0f}s: {', '.join(pending)} (logs in {self._log_dir})"
        )

    async def stop(self, timeout: float = 20.0) -> None:
        self._stopping.set()
        for state in self.states.values():
            if state.running and state.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    state.process.send_signal(signal.SIGTERM)
        waits = [s.process.wait() for s in self.states.values() if s.running and s.process]
        if waits:
            await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=timeout)
            for state in self.states.values():
                if state.running and state.process is not None:
                    with contextlib.suppress(ProcessLookupError):
                        state.process.kill()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def restart(
        self, name: str, env: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        """Stop process ``name`` (SIGTERM), start it again with ``env`` merged into its
        environment, and wait until it is healthy again."""
        state = self.states[name]
        if env:
            state.spec = replace(state.spec, env={**state.spec.env, **env})
        state.planned_restart = True
        old = state.process
        if old is not None and old.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                old.send_signal(signal.SIGTERM)
            await old.wait()
        deadline = time.monotonic() + timeout
        while (
            state.process is old
            or not state.running
            or (state.spec.health_url and state.health.get("status") != "ok")
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not healthy {timeout:.0f}s after a restart")
            await asyncio.sleep(0.2)

    async def _keep_running(self, state: ProcessState) -> None:
        crashed = False
        while not self._stopping.is_set():
            if crashed:
                state.restarts += 1
            log = (self._log_dir / f"{state.spec.name}.log").open("ab")
            try:
                state.process = await asyncio.create_subprocess_exec(
                    *_ending_with_us(state.spec.argv),
                    stdout=log,
                    stderr=log,
                    stdin=asyncio.subprocess.DEVNULL,
                    env={**os.environ, **state.spec.env},
                )
            finally:
                log.close()
            state.started_at = time.monotonic()
            state.last_exit = await state.process.wait()
            state.health = {}
            if self._stopping.is_set():
                return
            crashed = not state.planned_restart
            if state.planned_restart:
                state.planned_restart = False
                continue
            # A crash loop backs off; a process that was healthy (or, without a health URL,
            # ran a minute) and then died met a fault: it starts its backoff afresh.
            if not state.spec.health_url and time.monotonic() - state.started_at > 60:
                state.failures = 0
            state.failures += 1
            delay = min(self._backoff_max, self._backoff_base * 2 ** (state.failures - 1))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _poll_health(self) -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            while not self._stopping.is_set():
                for state in self.states.values():
                    if not state.spec.health_url or not state.running:
                        continue
                    try:
                        response = await client.get(state.spec.health_url)
                        state.health = response.json()
                        if state.health.get("status") == "ok":
                            state.failures = 0
                    except (httpx.HTTPError, json.JSONDecodeError):
                        state.health = {"status": "starting"}
                await asyncio.sleep(0.5)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
