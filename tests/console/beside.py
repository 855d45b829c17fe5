"""The stages the operator, card and caller screens call, served beside the console's stack
(``Stack.beside``) with the fixtures their own test folders use: the biometric stage with
Tuntas's ABIS and the capture device simulator, notification sending to the local SMSC."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.biometric.stage_kit import Stage, running_stage
from tests.console.stack import Stack
from tests.notification.conftest import Smsc, start_smsc
from tests.notification.service_kit import Harness, harness
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port


@contextlib.asynccontextmanager
async def capture_devices() -> AsyncIterator[str]:
    """The capture device simulator as its own process; its URL template."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulators.capture", "--port", str(port)
    )
    base = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        assert proc.returncode is None, "the capture device service exited"
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{base}/health")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(up, timeout=30, what="the capture device service")
        yield base + "/{kecamatan}"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


@contextlib.asynccontextmanager
async def biometric(stack: Stack, home: Path) -> AsyncIterator[Stage]:
    async with (
        capture_devices() as device_url,
        running_stage(
            kafka_bootstrap=stack.kafka,
            pg_dsn=stack.dsn,
            db_schema=stack.new_schema(),
            topic_prefix=stack.prefix,
            home=home,
            device_url=device_url,
        ) as stage,
    ):
        yield stage


def serve_biometric(stack: Stack, home: Path) -> Stage:
    stage = stack.beside(biometric(stack, home))
    stack.point(biometric_url=str(stage.http.base_url).rstrip("/"))
    return stage


@contextlib.asynccontextmanager
async def notification(stack: Stack, home: Path) -> AsyncIterator[tuple[Harness, Smsc]]:
    smsc = await start_smsc(home)
    try:
        async with harness(
            kafka_bootstrap=stack.kafka,
            pg_dsn=stack.dsn,
            db_schema=stack.new_schema(),
            topic_prefix=stack.prefix,
            smsc=smsc,
        ) as running:
            yield running, smsc
    finally:
        smsc.proc.terminate()
        smsc.proc.wait(timeout=10)


def serve_notification(stack: Stack, home: Path) -> tuple[Harness, Smsc]:
    running, smsc = stack.beside(notification(stack, home))
    stack.point(notification_url=str(running.http.base_url).rstrip("/"))
    return running, smsc
