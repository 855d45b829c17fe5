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
from services.runtime.auth import Access, Identity, may_see, own_office
from services.runtime.db import Conn, caller_scope
from services.runtime.service import Runtime
from services.validation import store
from services.validation.api.models import NOT_FOUND, AppId, AuditEntry, Item, not_found

Status = Literal["pending", "approved", "sent_back", "rejected", "superseded", "cancelled", "all"]


async def own_items(conn: Conn, caller: Identity, application_id: AppId) -> list[store.WorkItem]:
    """An application's work items; another office's answer 404 as a missing one's."""
    found = await store.items_of(conn, application_id)
    if not found or not may_see(caller, found[0].kecamatan):
        raise HTTPException(404, not_found(application_id))
    return found


def router(runtime: Runtime, access: Access) -> APIRouter:
    routes = APIRouter()
    readers = access.staff("kasi", "camat")

    @routes.get("/queue", response_model=list[Item])
    async def queue(
        *,
        caller: Identity = readers,
        kecamatan: Annotated[KecamatanCode, Query(description="e.g. 350805 or 35.08.05")],
        status_: Annotated[Status, Query(alias="status")] = "pending",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[Item]:
        own_office(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            items = await store.queue(
                conn, kecamatan, status=None if status_ == "all" else status_, limit=limit
            )
        return [Item.of(w) for w in items]

    @routes.get("/items/{application_id}", response_model=list[Item], responses=NOT_FOUND)
    async def items(*, caller: Identity = readers, application_id: AppId) -> list[Item]:
        async with caller_scope(runtime.pool, caller) as conn:
            found = await own_items(conn, caller, application_id)
        return [Item.of(w) for w in found]

    @routes.get(
        "/items/{application_id}/audit", response_model=list[AuditEntry], responses=NOT_FOUND
    )
    async def audit(*, caller: Identity = readers, application_id: AppId) -> list[AuditEntry]:
        async with caller_scope(runtime.pool, caller) as conn:
            await own_items(conn, caller, application_id)
            rows = await store.decisions_of(conn, application_id)
        return [AuditEntry.model_validate(r) for r in rows]

    return routes
