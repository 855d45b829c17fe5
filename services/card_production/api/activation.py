"""Step 6 at the counter: the applicant's live finger against the chip, then the new PIN."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException

from services.card_production import fingerprint
from services.card_production.api.errors import fail
from services.card_production.api.guard import station_staff
from services.card_production.api.models import ActivateIn
from services.card_production.workflow import Conflict, NotFound, Station, Unavailable
from services.runtime.auth import Access, Identity
from services.runtime.service import Runtime


def router(runtime: Runtime, station: Station, access: Access) -> APIRouter:
    api = APIRouter(tags=["activation"])
    card_operator = station_staff(access, station, "card_operator")

    @api.post("/cards/{application_id}/activate")
    async def activate(
        *, caller: Identity = card_operator, application_id: UUID, body: ActivateIn
    ) -> dict[str, Any]:
        """Match the live finger against the chip, then set the holder's PIN. A miss answers
        ``matched: false``; the third escalates."""
        if body.fingerprint_image_b64 is not None:
            try:
                image = base64.b64decode(body.fingerprint_image_b64, validate=True)
                live = fingerprint.template(image)
            # ValueError: binascii.Error, and a text that is not ASCII at all (was a 500)
            except (ValueError, fingerprint.TemplateError) as exc:
                raise HTTPException(
                    422, [{"loc": ["body", "fingerprint_image_b64"], "msg": str(exc)}]
                ) from exc
        else:
            assert body.simulated_finger_seed is not None
            live = fingerprint.template(fingerprint.simulated_finger(body.simulated_finger_seed))
        try:
            result = await station.activate(application_id, caller.username, live, body.pin)
        except (NotFound, Conflict, Unavailable) as exc:
            raise fail(exc) from exc
        return {
            "matched": result.matched,
            "score": result.score,
            "failures": result.failures,
            "escalated": result.escalated,
            "chip_serial": result.chip_serial,
        }

    return api
