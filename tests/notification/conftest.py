"""A real local SMSC (`python -m simulators.smsc`) as a separate process on a free port."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.notification.sms import SmppClient, SmppConfig
from tests.notification.service_kit import Harness, harness
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port


@dataclass
class Smsc:
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def records(self, destination: str | None = None) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        rows = [json.loads(line) for line in lines if line.strip()]
        return [r for r in rows if destination is None or r["destination"] == destination]

    def config(self, **overrides: Any) -> SmppConfig:
        base: dict[str, Any] = dict(
            host="127.0.0.1",
            port=self.port,
            system_id="tuntas",
            password="secret",
            system_type="NOTIF",
            source_addr="+6233488001",
            rate_per_s=1000.0,
            backoff_base_s=0.01,
            backoff_max_s=0.1,
        )
        return SmppConfig(**(base | overrides))


async def _accepts_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def _spawn(tmp: Path, args: tuple[str, ...]) -> Smsc:
    port = free_port()
    log = tmp / f"sms-{port}.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.smsc", "--port", str(port), "--log", str(log), *args],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"smsc-{port}.err").open("wb"),
    )
    return Smsc(port, log, proc)


async def start_smsc(tmp: Path, *args: str) -> Smsc:
    smsc = _spawn(tmp, args)

    async def up_or_exited() -> bool:
        return smsc.proc.poll() is not None or await _accepts_connections(smsc.port)

    probe: Callable[[], bool | Awaitable[bool]] = up_or_exited  # pins wait_for's T to bool
    await wait_for(probe, timeout=20, what=f"local SMSC listening on {smsc.port}")
    assert smsc.proc.poll() is None, (tmp / f"smsc-{smsc.port}.err").read_text()
    return smsc


def _stop(smsc: Smsc) -> None:
    smsc.proc.terminate()
    try:
        smsc.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        smsc.proc.kill()
        smsc.proc.wait()


@pytest.fixture(scope="session")
async def smsc(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Smsc]:
    """The shared fault-free SMSC; tests keep apart by using their own destination numbers."""
    s = await start_smsc(tmp_path_factory.mktemp("smsc"))
    yield s
    _stop(s)


@pytest.fixture
async def faulty_smsc(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Smsc]]]:
    """Start an SMSC of its own with fault flags (e.g. "--throttle-first", "2")."""
    started: list[Smsc] = []

    async def start(*args: str) -> Smsc:
        started.append(await start_smsc(tmp_path, *args))
        return started[-1]

    yield start
    for s in started:
        _stop(s)


@pytest.fixture
async def client(smsc: Smsc) -> AsyncIterator[SmppClient]:
    async with SmppClient(smsc.config()) as c:
        yield c


@pytest.fixture
def msisdn() -> Iterator[str]:
    """A destination number of this test's own, in E.164."""
    yield f"+62812{random.randrange(10**7):07d}"


@pytest.fixture
async def h(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, smsc: Smsc
) -> AsyncIterator[Harness]:
    """The notification service served in-process, sending to the real local SMSC."""
    async with harness(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        smsc=smsc,
    ) as running:
        yield running
