"""The front desk's lists: applicants the office must find without the phone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from schemas.values import KecamatanCode
from services.notification import store
from services.notification.api.models import DeskEntry
from services.runtime.auth import Access, Identity, own_office
from services.runtime.db import caller_scope
from services.runtime.service import Runtime


def router(runtime: Runtime, access: Access) -> APIRouter:
    api = APIRouter()
    finders = access.staff("desk", "caller")

    @api.get("/desk-list")
    async def desk_list(*, caller: Identity = finders, kecamatan: KecamatanCode) -> list[DeskEntry]:
        """Uncollected cards due for a call whose applicant has no phone number: reach them by
        letter, through the RT/RW or a visit. Same ageing as the call list."""
        own_office(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            rows = await store.call_tasks(conn, kecamatan, with_phone=False)
            hist = await store.history(conn, [r["application_id"] for r in rows])
        return [DeskEntry(**r, history=hist[r["application_id"]]) for r in rows]

    @api.get("/desk-flags")
    async def desk_flags(
        *, caller: Identity = finders, kecamatan: KecamatanCode
    ) -> list[dict[str, Any]]:
        """Applications with a wrong phone number: the front desk must find the applicant."""
        own_office(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            return await store.desk_flags(conn, kecamatan)

    return api
