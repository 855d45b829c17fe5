"""The station itself: health with device status and alerts, and the escalations the
section head decides on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.card_production.api.guard import station_staff
from services.card_production.workflow import Station
from services.runtime.auth import Access, Identity
from services.runtime.service import Runtime


def router(runtime: Runtime, station: Station, access: Access) -> APIRouter:
    api = APIRouter(tags=["station"])
    readers = station_staff(access, station, "card_operator", "kasi", "camat")

    @api.get("/health")
    async def health() -> JSONResponse:
        """Runtime health plus the station: printer, reader, queues, blanks, recent alerts."""
        runtime.health.extra["station"] = await station.snapshot()
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    @api.get("/escalations")
    async def escalations(caller: Identity = readers) -> list[dict[str, Any]]:
        return [
            {"id": r["id"], "application_id": str(r["application_id"]), "reason": r["reason"],
             "detail": r["detail"], "created_at": r["created_at"].isoformat()}
            for r in await station.escalations(caller)
        ]  # fmt: skip

    return api
