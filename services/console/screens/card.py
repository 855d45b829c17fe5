"""The card operator: the station's reader, printer and blank stock at a glance, the print
queue (live), a blank spoiled with its reason, the Surat Keterangan while a job waits for
blanks, and the activation at the counter (live finger against the chip, then the PIN)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.console.menu import entry
from services.console.pages import Console, office_of
from services.console.stages import StageError

ROLE = "card_operator"
MENU = [entry("/card", "menu.card_station", ROLE)]
SPOIL_REASONS = ("damaged", "print_defect", "encoding_failed", "data_error", "other")


def routes(console: Console) -> APIRouter:
    router = APIRouter(prefix="/card")

    async def station_page(
        request: Request,
        status_code: int = 200,
        refusal: str | None = None,
        spoiled: str | None = None,
        certificate: UUID | None = None,
        fragment: bool = False,
    ) -> Response:
        """The whole page, or (``fragment``) its live part: the glance, alerts and queue, all
        re-read on a print nudge since printing changes the stock and the reader's state."""
        staff = await console.staff(request, ROLE)
        office = office_of(staff, request)
        calls = console.calls(staff)
        stock, jobs = await calls.stock(office), await calls.print_jobs(office)
        context: dict[str, Any] = {
            "station": await calls.station_health(office),
            "stock": stock,
            "jobs": jobs,
            "reasons": SPOIL_REASONS,
            "refusal": refusal,
            "spoiled": spoiled if spoiled in {b["serial"] for b in stock["spoiled"]} else None,
            "certificate": next(
                (j for j in jobs if j.application_id == certificate and j.certificate_number),
                None,
            ),
        }
        template = "card/live.html" if fragment else "card/station.html"
        return console.render(request, template, staff, status_code, **context)

    async def acted(
        request: Request, action: Awaitable[Any], refusable: tuple[int, ...], done: dict[str, str]
    ) -> Response:
        """A POST's answer: back to the station page saying what was ``done`` (a redirect, so a
        reload does not send it again), or the station's refusal in place."""
        try:
            await action
        except StageError as refused:
            if refused.status not in refusable:
                raise
            message = refused.message(console.words(request).lang)
            return await station_page(request, refused.status, refusal=message)
        return RedirectResponse(f"/card?{urlencode(done)}", status_code=303)

    @router.get("")
    async def station(
        request: Request,
        fragment: bool = False,
        spoiled: str | None = None,
        certificate: UUID | None = None,
    ) -> Response:
        """``spoiled`` / ``certificate``: the action just done (a POST redirects here, so a
        reload does not send it again); shown only when the station confirms it."""
        return await station_page(
            request, spoiled=spoiled, certificate=certificate, fragment=fragment
        )

    @router.post("/spoil")
    async def spoil(request: Request) -> Response:
        staff = await console.staff(request, ROLE)
        form = await request.form()
        serial, reason = str(form.get("serial", "")).strip(), str(form.get("reason", ""))
        note = str(form.get("note", "")).strip()[:180] or None
        if reason not in SPOIL_REASONS:
            raise HTTPException(422)
        spoiled = console.calls(staff).spoil_blank(office_of(staff, request), serial, reason, note)
        return await acted(request, spoiled, (404, 409, 422), {"spoiled": serial})

    @router.post("/jobs/{application_id}/certificate")
    async def certificate(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        issued = console.calls(staff).issue_certificate(office_of(staff, request), application_id)
        return await acted(request, issued, (409, 503), {"certificate": str(application_id)})

    @router.get("/jobs/{application_id}/certificate.pdf")
    async def certificate_pdf(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        pdf = await console.calls(staff).certificate_pdf(office_of(staff, request), application_id)
        headers = {
            "Content-Disposition": f'inline; filename="surat-keterangan-{application_id}.pdf"'
        }
        return Response(pdf, media_type="application/pdf", headers=headers)

    @router.get("/jobs/{application_id}/activate")
    async def activation_form(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        job = await console.calls(staff).print_job(office_of(staff, request), application_id)
        return console.render(request, "card/activate.html", staff, job=job)

    @router.post("/jobs/{application_id}/activate")
    async def activate(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        office = office_of(staff, request)
        calls = console.calls(staff)
        form = await request.form()
        scan, seed = form.get("finger_image"), str(form.get("finger_seed", "")).strip()
        finger = (
            {"fingerprint_image_b64": base64.b64encode(await scan.read()).decode()}
            if isinstance(scan, UploadFile) and scan.filename
            else {"simulated_finger_seed": seed}
        )
        shown: dict[str, Any] = {}
        try:
            shown["result"] = await calls.activate(
                office, application_id, finger, str(form.get("pin", ""))
            )
        except StageError as refused:
            if refused.status not in (409, 422, 503):
                raise
            shown["refusal"] = refused.message(console.words(request).lang)
        job = await calls.print_job(office, application_id)
        status = 422 if "refusal" in shown else 200
        return console.render(request, "card/activate.html", staff, status, job=job, **shown)

    return router
