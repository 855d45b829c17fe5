"""A stage's FastAPI app: its title and description, ``GET /health`` and its task routers.

While the database is unreachable (stopped, restarting, a connection cut) a route cannot do
its work, but nothing is wrong with the request: the answer is 503 with ``Retry-After`` (a
client retries), never a 500 from an unhandled ``pool.acquire`` error.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from services.runtime import health, logs, metrics

RETRY_AFTER_S = 2
# The database server is gone or going: refused, reset, timed out, class 08 (connection) and
# class 57 (operator intervention: shutdown, crash shutdown, starting up) errors.
UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,  # "connection is closed" / "pool is closing"
)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"the database is not reachable right now ({type(exc).__name__}); retry"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def answer_unavailable(served: FastAPI) -> None:
    """Make ``served`` answer 503 + Retry-After when its database is unreachable."""
    for kind in UNAVAILABLE:
        served.add_exception_handler(kind, _unavailable)


def app(
    title: str, description: str, health_of: health.Health, routers: Iterable[APIRouter]
) -> FastAPI:
    """The app a stage serves: ``GET /health`` on ``health_of`` first, then ``routers``."""
    served = FastAPI(title=title, description=description, version="1")
    answer_unavailable(served)
    served.include_router(health.endpoint(health_of))
    metrics.mount(served, health_of)  # GET /metrics, open like /health
    served.add_middleware(logs.TraceRequests)
    for router in routers:
        served.include_router(router)
    return served
