"""The console rides through a stage's restart (issue #21): a call that never reached the
stage, or an idempotent one the stage answered 503 + Retry-After (its database restarting),
is sent again with backoff; anything else is not. A page read that still meets the stage
down tells the staff so and reloads itself (`test_caller.py`, in the browser).

The stage here is a real HTTP server on loopback, started late or answering 503 for a while,
as a supervised stage does after a kill.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from services.console.settings import ConsoleSettings
from services.console.stages import StageError, Stages
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port


def _stage(busy_answers: int, answer: object = ()) -> tuple[FastAPI, list[str]]:
    """A stage whose first ``busy_answers`` answers are 503 + Retry-After, then ``answer``."""
    asked: list[str] = []
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
    async def anything(path: str, request: Request) -> Response:
        asked.append(f"{request.method} /{path}")
        if len(asked) <= busy_answers:
            return Response(
                '{"detail": "the database is not reachable right now"}',
                status_code=503,
                headers={"Retry-After": "2"},
                media_type="application/json",
            )
        return Response(json.dumps(answer), media_type="application/json")

    return app, asked


@asynccontextmanager
async def _serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error", lifespan="off"))
    task = asyncio.ensure_future(server.serve())
    try:
        await wait_for(lambda: server.started or task.done(), what="the stage's HTTP port")
        yield
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def _calls(port: int) -> AsyncIterator[Stages]:
    url = f"http://127.0.0.1:{port}"
    stages = Stages(ConsoleSettings(intake_url=url, notification_url=url))
    try:
        yield stages
    finally:
        await stages.close()


async def test_a_page_read_waits_for_a_stage_that_is_starting_again() -> None:
    port = free_port()
    app, asked = _stage(busy_answers=0)
    async with _calls(port) as stages:
        read = asyncio.ensure_future(stages.acting_as("token").corrections("350805"))
        await asyncio.sleep(0.6)  # the stage is down (killed, not started again yet)
        assert not read.done(), read
        async with _serving(app, port):
            assert await asyncio.wait_for(read, 10) == []
    assert asked == ["GET /corrections"]


async def test_an_idempotent_write_is_sent_again_after_503_retry_after() -> None:
    port = free_port()
    receipt = {
        "application_id": str(uuid4()),
        "tracking_number": "T-1",
        "revision": 1,
        "kecamatan": "350805",
        "office_name": "Tempeh",
        "application_type": "new",
        "received_at": "2026-12-03T08:00:00+07:00",
        "deadline": "2026-12-04T08:00:00+07:00",
        "checklist": [],
    }
    app, asked = _stage(busy_answers=2, answer=receipt)
    async with _serving(app, port), _calls(port) as stages:
        calls = stages.acting_as("token")
        answered = await calls.submit({"nik": "x"}, idempotency_key=str(uuid4()))
    assert str(answered.application_id) == receipt["application_id"]
    assert asked == ["POST /applications"] * 3


async def test_a_write_without_idempotency_key_is_not_sent_twice() -> None:
    port = free_port()
    app, asked = _stage(busy_answers=1)
    async with _serving(app, port), _calls(port) as stages:
        calls = stages.acting_as("token")
        with pytest.raises(StageError) as refused:
            await calls.call_outcome(7, {"outcome": "answered"})
    assert refused.value.status == 503
    assert asked == ["POST /calls/7/outcome"]


async def test_a_stage_still_down_after_the_retries_is_a_503_the_screen_shows() -> None:
    port = free_port()  # nothing ever listens here
    async with _calls(port) as stages:
        with pytest.raises(StageError) as down:
            await stages.acting_as("token").corrections("350805")
    assert down.value.status == 503
    assert "ConnectError" in str(down.value.body)
