"""The SP4N-LAPOR! connector against the stand-in run as its own process: complaints pushed once
(idempotent by ticket, retried through an outage), their status there pulled back."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service_quality.kit import running
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port

TEMPEH = "350805"


def _spawn(port: int, token: Path, errors: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulators.lapor", "--port", str(port), "--token-file", str(token)],
        stdout=subprocess.DEVNULL,
        stderr=errors.open("wb"),
    )


@pytest.fixture
async def lapor(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """``python -m simulators.lapor`` on a free port with an API token; (its URL, token file)."""
    token = tmp_path / "lapor.token"
    token.write_text("rahasia-lapor\n")
    port = free_port()
    proc = _spawn(port, token, tmp_path / "lapor.err")
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        assert proc.poll() is None, (tmp_path / "lapor.err").read_text()
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{url}/health")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await wait_for(up, timeout=20, what="the SP4N-LAPOR! stand-in")
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_complaints_reach_lapor_once_and_its_status_comes_back(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    lapor: tuple[str, Path],
) -> None:
    url, token = lapor
    async with httpx.AsyncClient(base_url=url) as stand_in:
        # LAPOR! is down for the first two calls: the connector retries
        await stand_in.post("/control/outage", json={"requests": 2})
        async with running(
            kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path,
            lapor_url=url, lapor_token_file=token, lapor_poll_s=0.1, lapor_pull_every_s=0.2,
            lapor_retry_s=0.1,
        ) as sq:  # fmt: skip
            http = sq.served.http
            made = await http.post(
                f"/offices/{TEMPEH}/complaints",
                json={
                    "channel": "telephone",
                    "category": "cost",
                    "subject": "Diminta bayar",
                    "body": "Ada pungutan di loket.",
                    "officer_id": "petugas.tempeh.01",
                },
            )
            ticket = made.json()["ticket"]

            async def filed() -> list[dict[str, Any]]:
                return list((await stand_in.get("/control/complaints")).json())

            (record,) = await wait_for(filed, what="the complaint in SP4N-LAPOR!")
            assert (record["external_id"], record["kecamatan"]) == (ticket, TEMPEH)
            assert record["title"] == "Diminta bayar" and record["posts"] == 1

            async def lapor_history() -> list[str]:
                row = (await http.get(f"/offices/{TEMPEH}/complaints/{ticket}")).json()
                return [h["note"] for h in row["history"] if h["action"] == "lapor"]

            assert await wait_for(lapor_history, what="the push in the history") == ["submitted"]
            moved = await stand_in.post(
                f"/control/complaints/{record['id']}/status", json={"status": "completed"}
            )
            assert moved.status_code == 200

            async def completed() -> bool:
                return (await lapor_history())[-1:] == ["completed"]

            await wait_for(completed, what="LAPOR!'s status pulled back")
            row = (await http.get(f"/offices/{TEMPEH}/complaints/{ticket}")).json()
            assert (row["lapor_id"], row["lapor_status"]) == (record["id"], "completed")
            assert [r["posts"] for r in await filed()] == [1]  # pushed once
        # without the token, the stand-in refuses (the connector sends it)
        assert (await stand_in.get(f"/api/complaints/{record['id']}")).status_code == 401
