"""The desk's routes for cards at the office (steps 7-8): the queue, storing an uncollected
card, and handing a card over against the signed receipt."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from schemas.states import ApplicationState
from services.intake import context, models, rules, workflow
from services.intake.api.errors import answer
from services.intake.api.guard import own_application
from services.runtime.auth import Access, Identity, own_office, signed_by

_HANDOVER_REFUSED = models.responses(
    models.NOT_FOUND,
    (409, "card not activated, or already collected"),
    (422, "no signed receipt, or the NIK presented differs"),
)


def routes(desk: context.Desk, access: Access) -> APIRouter:
    router = APIRouter(tags=["desk"])
    desk_only = access.staff("desk")

    @router.get("/handover", response_model=list[models.HandoverItem])
    async def handover_queue(
        *, caller: Identity = desk_only, kecamatan: models.KecamatanQuery
    ) -> list[models.HandoverItem]:
        """Cards at the office waiting for their applicant (ready, stored, activated)."""
        own_office(caller, kecamatan)
        apps = await context.queue(desk, caller, kecamatan, sorted(rules.AT_THE_DESK))
        return [
            models.HandoverItem(
                application_id=a.id,
                tracking_number=a.tracking_number,
                applicant_name=a.file["applicant"]["name"],
                state=a.state,
                state_label=rules.STATE_LABELS_ID[ApplicationState(a.state)],
                activated=a.state == ApplicationState.ACTIVATED,
                storage_place=a.storage_place,
                ready_at=a.ready_at,
                activated_at=a.activated_at,
            )
            for a in apps
        ]

    @router.post("/applications/{application_id}/store", response_model=models.HandoverResult)
    async def store_uncollected(
        *, caller: Identity = desk_only, application_id: UUID, body: models.StoreRequest
    ) -> JSONResponse:
        """Mark a card not collected in time as stored (the applicant is then called)."""
        await own_application(desk, caller, application_id)
        stored = signed_by(body, caller)
        return answer(await workflow.store_uncollected(desk, application_id, stored))

    @router.post(
        "/applications/{application_id}/handover",
        response_model=models.HandoverResult,
        responses=_HANDOVER_REFUSED,
    )
    async def handover(
        *,
        caller: Identity = desk_only,
        application_id: UUID,
        body: models.HandoverRequest,
        idempotency_key: models.IdempotencyKey = None,
    ) -> JSONResponse:
        """Hand the activated card to its applicant: only against the signed receipt and an
        identity whose NIK is the application's. Emits ``card.collected``."""
        await own_application(desk, caller, application_id)
        signed = signed_by(body, caller)
        return answer(await workflow.handover(desk, application_id, signed, idempotency_key))

    return router
