"""The demo's staff ride through a stage's restart (issue #21: the stock keeper's
httpx.ConnectError while a card station restarted aborted the whole demo).

The station here is a real HTTP server on loopback, stopped and started again under the
autopilot's stock keeper, as the supervisor does with a killed station.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date
from pathlib import Path
from uuid import uuid4

import uvicorn
from fastapi import FastAPI

from tests.waiting import wait_for
from tuntas import topology
from tuntas.demo.autopilot import Autopilot, Journal, staff_client
from tuntas.demo.scenario import plan_day
from tuntas.demo.watch import Seen
from tuntas.stack import prereq

TEMPEH = "350805"


def _station() -> tuple[FastAPI, list[str]]:
    asked: list[str] = []
    app = FastAPI()

    @app.get("/stock")
    async def stock() -> dict[str, int]:
        asked.append("stock")
        return {"blanks_available": 5}

    @app.get("/jobs")
    async def jobs() -> list[object]:
        asked.append("jobs")
        return []

    return app, asked


def _options(tmp_path: Path) -> topology.Options:
    """Options whose Tempeh station and intake ports are both free and below Linux's ephemeral
    range (32768-): a port from ``free_port`` is free, but the intake port at the same offset
    could be a client socket's on a busy machine (a CI run beside a chaos day met that)."""
    rng = random.Random()
    while True:
        options = topology.Options(
            home=tmp_path, kecamatan=(TEMPEH,), port_offset=rng.randrange(12000, 23000)
        )
        ports = (_port(topology.station_url(0, options)), _intake(options))
        if all(prereq.is_free(p) for p in ports):
            return options


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _intake(options: topology.Options) -> int:
    return _port(topology.url("intake", options))


async def _serve(app: FastAPI, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error", lifespan="off"))
    task = asyncio.ensure_future(server.serve())
    await wait_for(lambda: server.started, what="the station's HTTP port")
    return server, task


async def test_stock_keeper_waits_for_a_restarting_station_instead_of_crashing(
    tmp_path: Path,
) -> None:
    options = _options(tmp_path)
    port = _port(topology.station_url(0, options))
    plan = plan_day(1, (TEMPEH,), seed=1, today=date(2026, 12, 3))
    journal = Journal()
    app, asked = _station()
    async with staff_client(journal) as http:
        pilot = Autopilot(plan, options, http, Seen(), day_s=10.0, journal=journal)
        # The station is down (killed, not restarted yet) when the stock keeper looks.
        keeper = asyncio.ensure_future(pilot._stock_keeper(plan.offices[0]))
        try:
            await wait_for(
                lambda: any("not answering" in text for _, text in journal.moments),
                what="the journal saying the station does not answer",
            )
            assert not keeper.done()
            server, task = await _serve(app, port)
            await wait_for(lambda: journal.outages, what="the station answering again")
            await wait_for(lambda: "jobs" in asked, what="the stock keeper's next round")
            # Killed again mid-day, and started again: the keeper is still at work after.
            server.should_exit = True
            await task
            seen = len(asked)
            server, task = await _serve(app, port)
            await wait_for(lambda: len(asked) > seen + 2, what="rounds after the second restart")
            assert not keeper.done(), keeper
            server.should_exit = True
            await task
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
    assert journal.outages and all(took > 0 for _, took, _ in journal.outages)
    assert any("answering again" in text for _, text in journal.moments)


async def test_an_answer_cut_after_its_headers_is_asked_again() -> None:
    # A station killed while answering: its headers went out, the body did not (the small
    # chaos day ended on this httpx.RemoteProtocolError in the autopilot's activation).
    asked: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        asked.append(len(asked))
        body = b'{"matched": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        if len(asked) > 1:  # the first answer is cut here
            writer.write(body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    journal = Journal()
    try:
        async with staff_client(journal) as http:
            response = await http.post(f"http://127.0.0.1:{port}/cards/x/activate", json={})
    finally:
        server.close()
        await server.wait_closed()
    assert response.json() == {"matched": True}
    assert asked == [0, 1]
    assert any("not answering" in text for _, text in journal.moments)


async def test_a_card_held_after_failed_matches_is_kept_at_the_office(tmp_path: Path) -> None:
    # The station escalates a card to the section head after three failed matches; the small
    # chaos day then waited for that visitor until its timeout. The desk keeps the card.
    options = _options(tmp_path)
    port = _port(topology.station_url(0, options))
    plan = plan_day(1, (TEMPEH,), seed=1, today=date(2026, 12, 3))
    visitor = plan.offices[0].visitors[0]
    app, stored = uuid4(), []
    station, desk = FastAPI(), FastAPI()

    @station.post("/cards/{application_id}/activate")
    async def activate(application_id: str) -> dict[str, object]:
        return {"matched": False, "score": 12, "failures": 3, "escalated": True}

    @desk.post("/applications/{application_id}/store")
    async def store(application_id: str) -> dict[str, str]:
        stored.append(application_id)
        return {"state": "stored_uncollected"}

    intake_port = _intake(options)
    journal = Journal()
    served = [await _serve(station, port), await _serve(desk, intake_port)]
    try:
        async with staff_client(journal) as http:
            pilot = Autopilot(plan, options, http, Seen(), day_s=10.0, journal=journal)
            matched = await pilot._activate(plan.offices[0], visitor, app, "petugas.1")
    finally:
        for server, task in served:
            server.should_exit = True
            await task
    assert matched is False
    assert stored == [str(app)] and pilot.finished[visitor.key] == "stored"
    assert journal.failed_matches[TEMPEH] == 1
