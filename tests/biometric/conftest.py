"""Shared helpers for the biometric tests: the simulated capture device service (run as its own
process, as a station's device service is), simulated people, and a migrated schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import cache
from pathlib import Path

import asyncpg
import pytest

from schemas.fingerprint import fingerprint_template
from services.biometric.crypto import MasterKeyring, new_master_key, parse_keyring
from services.biometric.enrolment import Enrolment, Take
from services.biometric.items import ALL_ITEMS, Capture, Finger
from services.biometric.store import MIGRATIONS
from services.runtime.db import connect, migrate
from simulators.capture.render import render
from simulators.capture.subjects import Subject
from tests.biometric.stage_kit import Stage, capture_devices, running_stage


@pytest.fixture(scope="session")
async def device_url() -> AsyncIterator[str]:
    """The device service's URL template (``…/{kecamatan}``), a real process on a free port."""
    async with capture_devices() as url:
        yield url


def devices_take(
    seed: str, poor_attempts: Mapping[str, int] | None = None, absent: tuple[str, ...] = ()
) -> Take:
    """A simulated person's captures in-process, for unit tests of the capture session."""
    subject = Subject(seed, dict(poor_attempts or {}), absent)

    async def take(item: str) -> Capture | None:
        rendered = subject.capture(item, subject.next_attempt(item))
        if rendered is None:
            return None
        return Capture(item, rendered.data, rendered.media_type, rendered.quality)

    return take


def rendered(seed: str, item: str, attempt: int = 1, *, poor: bool = False) -> Capture:
    """One capture of ``item`` of the simulated person ``seed``, as the device delivers it."""
    found = render(seed, item, attempt, poor)
    return Capture(item, found.data, found.media_type, found.quality)


@cache
def enrolled(seed: str) -> Enrolment:
    """A full, clean enrolment of the simulated person `seed` (cached: ~0.5 s each)."""
    captures = tuple(rendered(seed, item) for item in ALL_ITEMS)
    by_item = {c.item: c for c in captures}
    templates = {f: fingerprint_template(by_item[f.item].data) for f in Finger}
    return Enrolment(captures, templates, (), dict.fromkeys(ALL_ITEMS, 1))


@pytest.fixture
def keyring() -> MasterKeyring:
    return parse_keyring(f"1:{new_master_key()}")


@pytest.fixture
async def conn(pg_dsn: str, db_schema: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(pg_dsn, db_schema)
    try:
        await migrate(connection, db_schema, MIGRATIONS)
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def stage(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    device_url: str,
    oidc_env: str,
) -> AsyncIterator[Stage]:
    """The biometric stage served in-process, its devices the real simulated device service."""
    async with running_stage(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        home=tmp_path,
        device_url=device_url,
    ) as running:
        yield running
