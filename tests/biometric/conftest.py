"""Shared helpers for the biometric tests: simulated people and a migrated schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cache

import asyncpg
import pytest

from services.biometric.capture import SimulatedDevices
from services.biometric.crypto import MasterKeyring, new_master_key, parse_keyring
from services.biometric.enrolment import Enrolment, enrol
from services.biometric.quality import QualityPolicy
from services.biometric.store import MIGRATIONS
from services.runtime.db import connect, migrate


@cache
def enrolled(seed: str) -> Enrolment:
    """A full, clean enrolment of the simulated person `seed` (cached: ~0.5 s each)."""
    return enrol(SimulatedDevices(seed), QualityPolicy())


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
