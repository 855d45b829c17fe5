"""The desk's refusals counted by reason (codes only, no personal data): read-only, for the
camat's and the district admin's dashboard and the section head."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from schemas.values import IsoDateTime, KecamatanCode
from services.intake import context, store
from services.runtime.auth import Access, Identity, own_office
from services.runtime.db import caller_scope


class Refusals(BaseModel):
    files: int  # files refused (one may have several reasons)
    by_reason: dict[str, int]


def routes(desk: context.Desk, access: Access) -> APIRouter:
    router = APIRouter(tags=["figures"])
    readers = access.staff("camat", "kasi")

    @router.get("/refusals", response_model=Refusals)
    async def refusals(
        *, caller: Identity = readers, since: IsoDateTime, kecamatan: KecamatanCode | None = None
    ) -> Refusals:
        """Files refused at the desk since ``since``, by reason; the caller's office (the
        district admin: ``kecamatan`` or the whole district)."""
        office = own_office(caller, kecamatan)
        async with caller_scope(desk.runtime.pool, caller) as conn:
            files, by_reason = await store.refusal_counts(conn, since, office)
        return Refusals(files=files, by_reason=by_reason)

    return router
