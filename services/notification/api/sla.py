"""SLA counts per kecamatan, from the status timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException

from schemas.values import KecamatanCode
from services.runtime.auth import Access, Identity, own_office

SlaReader = Callable[[str | None], dict[str, Any]]


def router(sla: SlaReader | None, access: Access) -> APIRouter:
    api = APIRouter()
    readers = access.staff("camat", "kasi")

    @api.get("/sla")
    async def sla_counts(
        caller: Identity = readers, kecamatan: KecamatanCode | None = None
    ) -> dict[str, Any]:
        """Live counts per kecamatan: open (deadline not passed), on time, late. Office staff
        see their own kecamatan; the district admin all, or the one asked for."""
        office = own_office(caller, kecamatan)
        if sla is None:
            raise HTTPException(503, "the status timeline is not running")
        return sla(office)

    return api
