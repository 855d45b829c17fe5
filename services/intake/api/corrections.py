"""The desk's routes for files the section head sent back: the queue and the resubmission."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from schemas.states import ApplicationState
from services.intake import context, models, workflow
from services.intake.api.errors import answer
from services.intake.api.guard import own_application
from services.runtime.auth import Access, Identity, own_office, signed_by


def routes(desk: context.Desk, access: Access) -> APIRouter:
    router = APIRouter(tags=["desk"])
    desk_only = access.staff("desk")

    @router.get("/corrections", response_model=list[models.SentBackItem])
    async def corrections(
        *, caller: Identity = desk_only, kecamatan: models.KecamatanQuery
    ) -> list[models.SentBackItem]:
        """Files the section head sent back, with the reasons, oldest first."""
        own_office(caller, kecamatan)
        apps = await context.queue(desk, caller, kecamatan, [ApplicationState.SENT_BACK.value])
        return [
            models.SentBackItem(
                application_id=a.id,
                tracking_number=a.tracking_number,
                revision=a.revision,
                application_type=a.application_type,
                applicant_name=a.file["applicant"]["name"],
                sent_back_at=a.sent_back_at,
                reasons=a.sent_back_reasons or [],
                file=a.file,
            )
            for a in apps
        ]

    @router.put(
        "/applications/{application_id}",
        response_model=models.Receipt,
        responses=models.responses(
            models.NOT_FOUND,
            (409, "not waiting for a correction, or NIK taken"),
            (422, "the corrected file is incomplete or invalid"),
        ),
    )
    async def resubmit(
        *,
        caller: Identity = desk_only,
        application_id: UUID,
        body: models.ResubmitApplication,
        request: Request,
        idempotency_key: models.IdempotencyKey = None,
    ) -> JSONResponse:
        """Resubmit a corrected file as a new revision (``application.accepted``, revision+1)."""
        await own_application(desk, caller, application_id)
        raw = await request.json()
        fixed = signed_by(body, caller)
        return answer(await workflow.resubmit(desk, application_id, fixed, raw, idempotency_key))

    return router
