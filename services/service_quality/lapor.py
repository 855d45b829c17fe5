"""The SP4N-LAPOR! connector: every complaint is pushed to the national complaint system and its
status there pulled back until it is final.

The endpoint is configuration (``lapor_url``; locally ``python -m simulators.lapor``). The push
is idempotent on LAPOR!'s side by the ticket (``external_id``, also sent as Idempotency-Key), so
a push whose answer was lost is simply sent again; failures are retried with backoff. The API's
shape is the stand-in's (docs/service_quality.md): the real one is not reachable from here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.runtime.db import Conn
from services.runtime.service import Runtime
from services.service_quality import store
from services.service_quality.workflow import Context

log = logging.getLogger("tuntas.service_quality")
FINAL = "completed"


def _client(ctx: Context) -> httpx.AsyncClient:
    token_file = ctx.settings.lapor_token_file
    headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"} if token_file else {}
    return httpx.AsyncClient(
        base_url=ctx.settings.lapor_url.rstrip("/"), headers=headers, timeout=10
    )


def _report(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "external_id": row["ticket"],
        "title": row["subject"],
        "content": row["body"],
        "category": row["category"],
        "channel": row["channel"],
        "kecamatan": row["kecamatan"],
        "received_at": row["received_at"].isoformat(),
    }


async def _exchange(http: httpx.AsyncClient, row: dict[str, Any]) -> dict[str, Any]:
    """Push a complaint not yet in LAPOR!, or read the status of one that is."""
    if row["lapor_id"] is None:
        response = await http.post(
            "/api/complaints", json=_report(row), headers={"Idempotency-Key": row["ticket"]}
        )
    else:
        response = await http.get(f"/api/complaints/{row['lapor_id']}")
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


async def _sync_one(
    conn: Conn, ctx: Context, http: httpx.AsyncClient, row: dict[str, Any], now: datetime
) -> bool:
    """True when something changed (pushed, or a new status there)."""
    try:
        answer = await _exchange(http, row)
    except (httpx.HTTPError, ValueError, KeyError) as error:
        delay = min(ctx.settings.lapor_retry_s * 2 ** row["lapor_attempts"], 3600.0)
        log.warning("SP4N-LAPOR! %s: %s; again in %.0fs", row["ticket"], error, delay)
        await store.lapor_failed(conn, row["id"], str(error) or type(error).__name__,
                                 now + timedelta(seconds=delay))  # fmt: skip
        return False
    status = str(answer["status"])
    await store.lapor_synced(
        conn, row["id"], str(answer["id"]), status,
        now + timedelta(seconds=ctx.settings.lapor_pull_every_s),
    )  # fmt: skip
    if status == row["lapor_status"]:
        return False
    await store.add_history(conn, row["id"], now, "lapor", "sp4n-lapor", status)
    return True


async def sync(runtime: Runtime, ctx: Context) -> int:
    """One pass over the complaints due; returns how many changed (a busy pass runs again)."""
    now = ctx.clock.now()
    changed = 0
    async with _client(ctx) as http, runtime.pool.acquire() as conn, conn.transaction():
        for row in await store.lapor_due(conn, now):
            changed += await _sync_one(conn, ctx, http, row, now)
    return changed
