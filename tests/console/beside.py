"""The stages the operator, card and caller screens call, served beside the console's stack
(``Stack.beside``) with the fixtures their own test folders use: the biometric stage with
Tuntas's ABIS and the capture device simulator, notification sending to the local SMSC."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tests.biometric.stage_kit import Stage, capture_devices, running_stage
from tests.console.stack import Stack
from tests.notification.conftest import Smsc, start_smsc
from tests.notification.service_kit import Harness, harness


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
