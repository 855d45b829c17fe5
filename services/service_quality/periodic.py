"""Background jobs that run a step on a timer until the service stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from services.runtime.service import Runtime


def every(
    name: str, seconds: Callable[[], float], step: Callable[[Runtime], Awaitable[Any]]
) -> Callable[[Runtime], Awaitable[None]]:
    """A background job named ``name`` (health shows it) running ``step`` every ``seconds()``;
    a step that found work (a truthy result) runs again at once."""

    async def job(runtime: Runtime) -> None:
        while not runtime.stop.is_set():
            if await step(runtime):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.stop.wait(), seconds())

    job.__name__ = name
    return job
