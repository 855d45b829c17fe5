"""A stage route while its PostgreSQL is stopped (``pg_ctl -m immediate``, as make chaos does)
answers 503 with Retry-After, not 500 (found by the first chaos run: an unhandled
``pool.acquire`` error), and answers again once the server is back."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from fastapi import APIRouter

from services.runtime import db, http
from services.runtime.health import Health
from tests.chaos.conftest import stop_immediately
from tests.waiting import wait_for
from tuntas.stack.postgres import PostgresNode


def _queue(pool: asyncpg.Pool) -> APIRouter:
    router = APIRouter()

    @router.get("/queue")
    async def queue() -> int:
        async with pool.acquire() as conn:
            return int(await conn.fetchval("SELECT 1"))

    return router


async def test_a_route_answers_503_while_the_database_is_down(own_server: PostgresNode) -> None:
    pool = await db.create_pool(own_server.dsn, "public", min_size=1, max_size=2)
    app = http.app("Tuntas stage", "A stage.", Health("stage"), [_queue(pool)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://stage") as client:
            assert (await client.get("/queue")).json() == 1
            stop_immediately(own_server)
            await wait_for(lambda: not own_server.is_running(), what="the server stopped")
            # The pool's connection was cut, then new ones are refused: both are an outage.
            answers = [await client.get("/queue") for _ in range(3)]
            assert [a.status_code for a in answers] == [503, 503, 503], [a.text for a in answers]
            assert all(a.headers["retry-after"] == str(http.RETRY_AFTER_S) for a in answers)
            assert "database" in answers[0].json()["detail"]
            await asyncio.to_thread(own_server.start)

            async def answers_again() -> bool:
                return (await client.get("/queue")).status_code == 200

            await wait_for(answers_again, timeout=60, what="the route answering after restart")
    finally:
        await pool.close()
