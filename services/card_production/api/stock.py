"""Stock keeping: deliveries of blanks, blanks found damaged, the stock view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response

from services.card_production.api.errors import fail
from services.card_production.api.guard import station_staff
from services.card_production.api.models import BatchIn, Serial, SpoilIn
from services.card_production.rules import InvalidSerialRange
from services.card_production.workflow import Conflict, NotFound, Station
from services.runtime.auth import Access, Identity
from services.runtime.service import Runtime


def router(runtime: Runtime, station: Station, access: Access) -> APIRouter:
    api = APIRouter(tags=["stock"])
    card_operator = station_staff(access, station, "card_operator")
    readers = station_staff(access, station, "card_operator", "camat")

    @api.post("/stock/batches", status_code=201)
    async def receive_batch(
        *, caller: Identity = card_operator, body: BatchIn, response: Response
    ) -> dict[str, Any]:
        """A delivery of blanks (a serial range); waiting jobs resume by themselves.
        Idempotent per ``batch_ref``: the same range again answers 200."""
        try:
            batch, created = await station.receive_batch(
                body.batch_ref, body.first_serial, body.last_serial, caller.username
            )
        except InvalidSerialRange as exc:
            raise HTTPException(422, [{"loc": ["body", "last_serial"], "msg": str(exc)}]) from exc
        except Conflict as exc:
            raise fail(exc) from exc
        if not created:
            response.status_code = 200
        return batch

    @api.post("/stock/blanks/{serial}/spoil", status_code=204)
    async def spoil_blank(
        *, caller: Identity = card_operator, serial: Serial, body: SpoilIn
    ) -> None:
        """A blank found damaged in storage."""
        try:
            await station.spoil_blank(serial, body.reason, body.note)
        except (NotFound, Conflict) as exc:
            raise fail(exc) from exc

    @api.get("/stock")
    async def stock(caller: Identity = readers) -> dict[str, Any]:
        return await station.stock(caller)

    return api
