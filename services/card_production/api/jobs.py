"""The print queue: jobs in production order, and the temporary certificate while a job
waits for blanks."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from services.card_production.api.errors import fail
from services.card_production.api.guard import station_staff
from services.card_production.api.models import CertificateIn, job_view
from services.card_production.workflow import Conflict, NotFound, Station, Unavailable
from services.runtime.auth import Access, Identity
from services.runtime.service import Runtime


def router(runtime: Runtime, station: Station, access: Access) -> APIRouter:
    api = APIRouter(tags=["print jobs"])
    card_operator = station_staff(access, station, "card_operator")
    readers = station_staff(access, station, "card_operator", "camat")

    @api.get("/jobs")
    async def jobs(
        *,
        caller: Identity = readers,
        state: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
    ) -> list[dict[str, Any]]:
        """The station's print jobs in production order (new before replacement, then FIFO)."""
        return [job_view(r) for r in await station.jobs(caller, state)]

    @api.get("/jobs/{application_id}")
    async def job(*, caller: Identity = readers, application_id: UUID) -> dict[str, Any]:
        try:
            return job_view(await station.job(application_id, caller))
        except NotFound as exc:
            raise fail(exc) from exc

    @api.post("/jobs/{application_id}/certificate", status_code=201)
    async def certificate(
        *, caller: Identity = card_operator, application_id: UUID, body: CertificateIn
    ) -> dict[str, Any]:
        """Issue the temporary Surat Keterangan while the job waits for blanks."""
        try:
            return await station.issue_certificate(application_id, caller.username)
        except (NotFound, Conflict, Unavailable) as exc:
            raise fail(exc) from exc

    @api.get("/jobs/{application_id}/certificate.pdf", response_model=None)
    async def certificate_pdf(*, caller: Identity = readers, application_id: UUID) -> FileResponse:
        try:
            row = await station.job(application_id, caller)
        except NotFound as exc:
            raise fail(exc) from exc
        if row["certificate_path"] is None:
            raise HTTPException(404, "no certificate issued for this application")
        return FileResponse(row["certificate_path"], media_type="application/pdf")

    return api
