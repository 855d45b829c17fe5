"""services.runtime.http.app: the health endpoint every stage serves, then the stage's routers."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from services.runtime import db, http
from services.runtime.health import Health


def _task() -> APIRouter:
    router = APIRouter()

    @router.get("/queue")
    async def queue() -> list[str]:
        return ["first"]

    return router


async def test_health_follows_the_loops_and_the_routers_are_served() -> None:
    health = Health("stage")
    app = http.app("Tuntas stage", "What the stage does.", health, [_task()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stage") as client:
        health.loops["relay"] = True
        running = await client.get("/health")
        health.loops["relay"] = False
        health.stopped["relay"] = "failed: boom"
        stopped = await client.get("/health")
        queue = await client.get("/queue")
        described = (await client.get("/openapi.json")).json()["info"]
    assert running.status_code == 200 and running.json()["service"] == "stage"
    assert stopped.status_code == 503 and stopped.json()["stopped"] == {"relay": "failed: boom"}
    assert queue.json() == ["first"]
    assert described == {
        "title": "Tuntas stage",
        "description": "What the stage does.",
        "version": "1",
    }


async def test_a_nul_byte_in_the_query_or_path_is_a_422_naming_it_not_a_500(
    pg_dsn: str, db_schema: str
) -> None:
    # Found by the fuzz run: a NUL in `kecamatan` reached PostgreSQL, which refuses it in text.
    pool = await db.create_pool(pg_dsn, db_schema, min_size=1, max_size=1)
    router = APIRouter()

    @router.get("/find/{code}")
    async def find(code: str, kecamatan: str = "") -> list[str]:
        async with pool.acquire() as conn:
            return [await conn.fetchval("SELECT $1::text || $2::text", code, kecamatan)]

    app = http.app("Tuntas stage", "A stage.", Health("stage"), [router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://stage") as client:
            fine = await client.get("/find/a", params={"kecamatan": "350805"})
            in_query = await client.get("/find/a?kecamatan=35%0005")
            in_path = await client.get("/find/a%00b")
    finally:
        await pool.close()
    assert fine.json() == ["a350805"]
    assert in_query.status_code == 422, in_query.text
    assert in_query.json()["detail"][0]["loc"] == ["query", "kecamatan"]
    assert in_path.status_code == 422 and in_path.json()["detail"][0]["loc"] == ["path"]
