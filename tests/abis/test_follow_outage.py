"""While PostgreSQL is away (a restart), following the gallery says so once, at WARNING, and
once more when it reads again; an unexpected failure is still an ERROR with its traceback.
(The chaos day's ABIS logged an ERROR with a traceback every 2 s of each database stop.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from services.abis.follow import every


class Gallery:
    """A follower whose database fails ``failures`` times in a row with ``error``."""

    def __init__(self, failures: int, error: Exception, stop: asyncio.Event) -> None:
        self.failures, self.error, self.stop, self.reads = failures, error, stop, 0

    async def catch_up(self, conn: object) -> int:
        self.reads += 1
        if self.reads <= self.failures:
            raise self.error
        self.stop.set()
        return 0


@contextlib.asynccontextmanager
async def _connection() -> AsyncIterator[object]:
    yield object()


async def _follow(failures: int, error: Exception) -> Gallery:
    stop = asyncio.Event()
    gallery = Gallery(failures, error, stop)
    runtime = SimpleNamespace(stop=stop, pool=SimpleNamespace(acquire=_connection))
    await asyncio.wait_for(every(cast(Any, gallery), 0.01)(cast(Any, runtime)), 10)
    return gallery


async def test_a_database_away_is_one_warning_not_an_error_per_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tuntas.abis")
    gallery = await _follow(6, ConnectionRefusedError(111, "Connect call failed"))
    assert gallery.reads == 7
    levels = [r.levelno for r in caplog.records if r.name == "tuntas.abis"]
    assert levels == [logging.WARNING, logging.INFO]


async def test_an_unexpected_failure_is_an_error_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tuntas.abis")
    await _follow(2, ValueError("a sealed reference that does not open"))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all(r.exc_info for r in errors)
