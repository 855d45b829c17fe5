"""services.runtime.http.app: the health endpoint every stage serves, then the stage's routers."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from services.runtime import http
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
