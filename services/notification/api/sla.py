"""SLA counts per kecamatan, from the status timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException

from schemas.values import KecamatanCode

SlaReader = Callable[[str | None], dict[str, Any]]


def router(sla: SlaReader | None) -> APIRouter:
    api = APIRouter()

    @api.get("/sla")
    async def sla_counts(kecamatan: KecamatanCode | None = None) -> dict[str, Any]:
        """Live counts per kecamatan: open (deadline not passed), on time, late."""
        if sla is None:
            raise HTTPException(503, "the status timeline is not running")
        return sla(kecamatan)

    return api
