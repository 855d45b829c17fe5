"""The desk killed in the middle of submissions: each application exists once or not at all,
never half (an application row without its outbox event, or an event without its row), and a
retry with the same Idempotency-Key finishes the job with the same receipt."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.intake.kit import man_applicant, new_card_file
from tests.kit.tokens import As
from tests.kit.topics import read_events
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port

REPO = Path(__file__).resolve().parents[2]
N = 24


def _file(i: int) -> dict[str, Any]:
    applicant = man_applicant() | {"nik": f"35080512039{i + 1:05d}"}
    return new_card_file(applicant=applicant)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


@asynccontextmanager
async def desk_process(
    kafka: str, dsn: str, schema: str, prefix: str, log: Path, **env: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "DATABASE_URL": dsn,
        "TUNTAS_TOPIC_PREFIX": prefix,
        "TUNTAS_INTAKE_DB_SCHEMA": schema,
        "TUNTAS_INTAKE_HTTP_PORT": str(port),
        "TUNTAS_INTAKE_TOPIC_PARTITIONS": "2",
        "TUNTAS_INTAKE_LOG_LEVEL": "WARNING",
        **env,
    }
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.intake", cwd=REPO, env=environment, stderr=out
        )
    base = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        if proc.returncode is not None:
            raise AssertionError(f"intake exited with {proc.returncode}: {_tail(log)}")
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{base}/health", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(healthy, timeout=60, what="the intake process to be healthy")
        yield proc, base
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)


async def _halves(conn: asyncpg.Connection) -> tuple[int, int, int, int]:
    """(applications, outbox rows, applications without an event, events without a row)."""
    apps = await conn.fetchval("SELECT count(*) FROM applications")
    events = await conn.fetchval("SELECT count(*) FROM outbox")
    lonely_apps = await conn.fetchval(
        "SELECT count(*) FROM applications a WHERE NOT EXISTS"
        " (SELECT 1 FROM outbox o WHERE o.key = a.id::text)"
    )
    lonely_events = await conn.fetchval(
        "SELECT count(*) FROM outbox o WHERE NOT EXISTS"
        " (SELECT 1 FROM applications a WHERE a.id::text = o.key)"
    )
    return apps, events, lonely_apps, lonely_events


async def test_killed_mid_submission_leaves_whole_applications_only(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    oidc_env: str,
) -> None:
    log = tmp_path / "intake.log"
    desk = As(oidc_env, "desk.tempeh")  # the process verifies against TUNTAS_OIDC_ISSUER
    conn = await asyncpg.connect(pg_dsn, server_settings={"search_path": db_schema})
    try:
        # 1. SIGKILL while N submissions are in flight.
        async with (
            desk_process(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, log) as (
                proc,
                base,
            ),
            httpx.AsyncClient(base_url=base, timeout=30, auth=desk) as client,
        ):
            # A few submissions finish; the rest are held inside their transaction by a lock on
            # the outbox (the application row written, its event not yet), so the kill lands
            # mid-submission however fast the machine is.
            early = 3
            done = [
                await client.post(
                    "/applications", json=_file(i), headers={"Idempotency-Key": f"crash-{i}"}
                )
                for i in range(early)
            ]
            holder = await asyncpg.connect(pg_dsn, server_settings={"search_path": db_schema})
            try:
                held = holder.transaction()
                await held.start()
                await holder.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")
                requests = [
                    asyncio.ensure_future(
                        client.post(
                            "/applications",
                            json=_file(i),
                            headers={"Idempotency-Key": f"crash-{i}"},
                        )
                    )
                    for i in range(early, N)
                ]

                async def some_held() -> bool:
                    return bool(
                        await conn.fetchval(
                            "SELECT count(*) > 0 FROM pg_locks"
                            " WHERE NOT granted AND relation = 'outbox'::regclass"
                        )
                    )

                await wait_for(some_held, what="submissions waiting inside their transaction")
                proc.kill()
                await proc.wait()
            finally:
                await held.rollback()
                await holder.close()
            first: list[object] = [*done, *await asyncio.gather(*requests, return_exceptions=True)]
        answered = {
            i: r.json()
            for i, r in enumerate(first)
            if isinstance(r, httpx.Response) and r.status_code == 201
        }
        apps, events, lonely_apps, lonely_events = await _halves(conn)
        assert (lonely_apps, lonely_events) == (0, 0)
        assert apps == events
        assert len(answered) <= apps < N, "the kill should interrupt some submissions"

        # 2. Restarted, the desk retries every request with its key: N applications in all,
        #    and the answered ones get their receipts again.
        async with (
            desk_process(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, log) as (
                _,
                base,
            ),
            httpx.AsyncClient(base_url=base, timeout=30, auth=desk) as client,
        ):
            retried = [
                await client.post(
                    "/applications", json=_file(i), headers={"Idempotency-Key": f"crash-{i}"}
                )
                for i in range(N)
            ]
            assert {r.status_code for r in retried} == {201}
            for i, receipt in answered.items():
                assert retried[i].json() == receipt
            assert await _halves(conn) == (N, N, 0, 0)
            published = await read_events(
                kafka_bootstrap, f"{topic_prefix}tuntas.intake.events", N, timeout=60
            )
            assert len({e.message_id for e in published}) == N
            assert len({e.application_id for e in published}) == N

        # 3. Killed between the commit and the response: the retry gets the same receipt.
        crash = {"TUNTAS_CRASH_AT": "after_http_commit:1"}
        extra = _file(N)
        async with (
            desk_process(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, log, **crash) as (
                proc,
                base,
            ),
            httpx.AsyncClient(base_url=base, timeout=30, auth=desk) as client,
        ):
            try:
                lost = await client.post(
                    "/applications", json=extra, headers={"Idempotency-Key": "crash-last"}
                )
                raise AssertionError(f"expected no response, got {lost.status_code}")
            except httpx.TransportError:
                pass
            assert await proc.wait() == -9
        assert await _halves(conn) == (N + 1, N + 1, 0, 0)
        async with (
            desk_process(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, log) as (
                _,
                base,
            ),
            httpx.AsyncClient(base_url=base, timeout=30, auth=desk) as client,
        ):
            again = await client.post(
                "/applications", json=extra, headers={"Idempotency-Key": "crash-last"}
            )
            assert again.status_code == 201
            assert again.headers["Idempotent-Replayed"] == "true"
        assert await _halves(conn) == (N + 1, N + 1, 0, 0)
    finally:
        await conn.close()
