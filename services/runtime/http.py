"""A stage's FastAPI app: its title and description, ``GET /health`` and its task routers.

While the database is unreachable (stopped, restarting, a connection cut) a route cannot do
its work, but nothing is wrong with the request: the answer is 503 with ``Retry-After`` (a
client retries), never a 500 from an unhandled ``pool.acquire`` error. A NUL byte in the path
or a query parameter (which PostgreSQL cannot store in text) is refused with a 422 naming it,
before any route sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

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
    """Make ``served`` answer 503 + Retry-After when its database is unreachable, and refuse
    NUL bytes in the path and query (:class:`RefuseNulBytes`)."""
    for kind in UNAVAILABLE:
        served.add_exception_handler(kind, _unavailable)
    served.add_middleware(RefuseNulBytes)


class RefuseNulBytes:
    """422 for a NUL byte in the path or a query parameter, naming where: no text column takes
    one, so a route passing it on to PostgreSQL answered 500 (found by the fuzz run)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_at(scope)
            if where is not None:
                problem = {"type": "value_error", "loc": where, "msg": "NUL byte not allowed"}
                await JSONResponse({"detail": [problem]}, status_code=422)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_at(scope: Scope) -> list[str] | None:
    if "\x00" in scope.get("path", ""):
        return ["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
        if "\x00" in name or "\x00" in value:
            return ["query", name.replace("\x00", "")]
    return None


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
