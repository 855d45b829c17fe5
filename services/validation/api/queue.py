"""The section head's queue: what waits for a decision, one file with its registry findings,
and the decisions taken on it.

- ``GET /queue?kecamatan=``: items waiting for a decision, with the automatic findings;
- ``GET /items/{application_id}``: every revision's item of one application;
- ``GET /items/{application_id}/audit``: the decisions taken on it (append-only).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from schemas.values import KecamatanCode
from services.runtime.service import Runtime
from services.validation import store
from services.validation.api.models import NOT_FOUND, AppId, AuditEntry, Item, not_found

Status = Literal["pending", "approved", "sent_back", "rejected", "superseded", "cancelled", "all"]


def router(runtime: Runtime) -> APIRouter:
    routes = APIRouter()

    @routes.get("/queue", response_model=list[Item])
    async def queue(
        kecamatan: Annotated[KecamatanCode, Query(description="e.g. 350805 or 35.08.05")],
        status_: Annotated[Status, Query(alias="status")] = "pending",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[Item]:
        async with runtime.pool.acquire() as conn:
            items = await store.queue(
                conn, kecamatan, status=None if status_ == "all" else status_, limit=limit
            )
        return [Item.of(w) for w in items]

    @routes.get("/items/{application_id}", response_model=list[Item], responses=NOT_FOUND)
    async def items(application_id: AppId) -> list[Item]:
        async with runtime.pool.acquire() as conn:
            found = await store.items_of(conn, application_id)
        if not found:
            raise HTTPException(404, not_found(application_id))
        return [Item.of(w) for w in found]

    @routes.get("/items/{application_id}/audit", response_model=list[AuditEntry])
    async def audit(application_id: AppId) -> list[AuditEntry]:
        async with runtime.pool.acquire() as conn:
            rows = await store.decisions_of(conn, application_id)
        return [AuditEntry.model_validate(r) for r in rows]

    return routes
