"""The desk's routes for receiving files: uploads, submission, one application, cancelling."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse

from services.intake import context, models, scans, workflow
from services.intake.api.errors import answer
from services.intake.api.guard import own_application
from services.runtime.auth import Access, Identity, own_office, signed_by

_UPLOAD = models.responses(
    (413, "file too large"),
    (415, "not PDF/JPEG/PNG"),
)


_SUBMIT = models.responses(
    (200, "the same request again (Idempotency-Key): the same receipt"),
    (409, "the NIK has an active application (named if at this office, else its office only)"),
    (413, "scan too large"),
    (415, "scan not PDF/JPEG/PNG"),
    (422, "incomplete or invalid file: the exact missing items"),
)


_CANCEL_REFUSED = models.responses(
    models.NOT_FOUND,
    (409, "a card exists already, or the application ended"),
)


def routes(desk: context.Desk, access: Access) -> APIRouter:
    router = APIRouter(tags=["desk"])
    desk_only = access.staff("desk")
    readers = access.staff("desk", "kasi", "camat")

    @router.post("/uploads", status_code=201, response_model=models.UploadRef, responses=_UPLOAD)
    async def upload(
        *,
        caller: Identity = desk_only,
        kecamatan: Annotated[str, Form(description="The office (kecamatan code)")],
        file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 5 MB")],
        kind: Annotated[Literal["kk_scan", "signed_receipt"], Form()] = "kk_scan",
    ) -> JSONResponse:
        """Upload a scan (KK photocopy, signed receipt); use the returned ``upload_id``."""
        own_office(caller, desk.office(kecamatan).code)
        data = await file.read(desk.settings.max_upload_bytes + 1)
        upload_id, scan = await scans.upload(desk, kecamatan, kind, data, file.content_type)
        ref = models.UploadRef(
            upload_id=upload_id,
            kind=kind,
            content_type=scan.content_type,
            size=len(scan.data),
            sha256=scan.sha256,
        )
        return JSONResponse(ref.model_dump(mode="json"), status_code=201)

    @router.post("/applications", status_code=201, response_model=models.Receipt, responses=_SUBMIT)
    async def submit(
        *,
        caller: Identity = desk_only,
        body: models.SubmitApplication,
        request: Request,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                pattern=models.IDEMPOTENCY_KEY,
                description="Repeat it on retries: one application, the same receipt",
            ),
        ] = None,
    ) -> JSONResponse:
        """Receive a file at the desk. Complete ⇒ a receipt and ``application.accepted``;
        incomplete ⇒ 422 listing what is missing, and nothing enters the pipeline."""
        own_office(caller, body.kecamatan)
        raw = await request.json()
        return answer(await workflow.submit(desk, signed_by(body, caller), raw, idempotency_key))

    @router.get(
        "/applications/{application_id}",
        responses=models.responses(models.NOT_FOUND),
    )
    async def application(*, caller: Identity = readers, application_id: UUID) -> dict[str, Any]:
        """The desk's view of one application (staff only: it holds personal data)."""
        app = await own_application(desk, caller, application_id)
        return {
            "application_id": str(app.id),
            "kecamatan": app.kecamatan,
            "tracking_number": app.tracking_number,
            "state": app.state,
            "active": app.active,
            "revision": app.revision,
            "file": app.file,
            "kk_scan_id": str(app.kk_scan_id) if app.kk_scan_id else None,
            "received_at": app.accepted_at.isoformat(),
            "revised_at": app.revised_at.isoformat(),
            "deadline": app.deadline.isoformat(),
            "sent_back_reasons": app.sent_back_reasons,
            "storage_place": app.storage_place,
            "closed_reason": app.closed_reason,
            "receipt_reference": app.receipt_reference,
        }

    @router.post(
        "/applications/{application_id}/cancel",
        response_model=models.HandoverResult,
        responses=_CANCEL_REFUSED,
    )
    async def cancel(
        *, caller: Identity = desk_only, application_id: UUID, body: models.CancelRequest
    ) -> JSONResponse:
        """Withdraw an application (until a chip is encoded): ``application.cancelled``; the
        NIK is free again."""
        await own_application(desk, caller, application_id)
        return answer(await workflow.cancel(desk, application_id, signed_by(body, caller)))

    return router
