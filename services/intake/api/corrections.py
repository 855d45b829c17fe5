"""The desk's routes for files the section head sent back: the queue and the resubmission."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from schemas.states import ApplicationState
from services.intake import context, workflow
from services.intake.api.errors import answer
from services.intake.api.models import (
    IDEMPOTENCY_KEY,
    Receipt,
    ResubmitApplication,
    SentBackItem,
)


def routes(desk: context.Desk) -> APIRouter:
    router = APIRouter(tags=["desk"])

    @router.get("/corrections", response_model=list[SentBackItem])
    async def corrections(
        kecamatan: Annotated[str, Query(description="The office (kecamatan code)")],
    ) -> list[SentBackItem]:
        """Files the section head sent back, with the reasons, oldest first."""
        office = desk.office(kecamatan, where="query")
        apps = await context.queue(desk, office.code, [ApplicationState.SENT_BACK.value])
        return [
            SentBackItem(
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
        response_model=Receipt,
        responses={
            404: {"description": "no such application"},
            409: {"description": "not waiting for a correction, or NIK taken"},
            422: {"description": "the corrected file is incomplete or invalid"},
        },
    )
    async def resubmit(
        application_id: UUID,
        body: ResubmitApplication,
        request: Request,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)
        ] = None,
    ) -> JSONResponse:
        """Resubmit a corrected file as a new revision (``application.accepted``, revision+1)."""
        raw = await request.json()
        return answer(await workflow.resubmit(desk, application_id, body, raw, idempotency_key))

    return router
