"""The front desk (petugas pelayanan): a new application by type with its checklist, the
refusal reasons in place, the receipt and its PDF; files sent back for correction; handover
of the card with an ID check and the applicant's signature, and the proof of collection."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import OrderedDict
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from schemas.application import ApplicationType
from services.console import desk_form, pdfs
from services.console.auth import Staff
from services.console.i18n import EN, ID
from services.console.menu import entry
from services.console.pages import Console, office_name, office_of
from services.console.stages import Application, StageCalls, StageError

ROLE = "desk"
MENU = [
    entry("/desk/new", "menu.desk_new", ROLE),
    entry("/desk/corrections", "menu.desk_corrections", ROLE),
    entry("/desk/handover", "menu.desk_handover", ROLE),
]
SIGNATURE_PREFIX = "data:image/png;base64,"
_UNCHECKED = {
    "path": "id_checked",
    "message_id": ID["desk.id_check"],
    "message_en": EN["desk.id_check"],
}
_PROOFS_KEPT = 200  # signatures of recent handovers, for reprinting the proof right after


def _kind(value: str | None) -> ApplicationType | None:
    try:
        return ApplicationType(value or "")
    except ValueError:
        return None


def _form_text(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _scan(form: Any, field: str) -> tuple[str, bytes, str] | None:
    file = form.get(field)
    if not isinstance(file, UploadFile) or not file.filename:
        return None
    return file.filename, await file.read(), file.content_type or "application/octet-stream"


def routes(console: Console) -> APIRouter:
    router = APIRouter(prefix="/desk")
    proofs: OrderedDict[UUID, bytes] = OrderedDict()

    def form_page(
        request: Request,
        staff: Staff,
        kind: ApplicationType,
        *,
        values: dict[str, str] | None = None,
        problems: list[dict[str, Any]] | None = None,
        refusal: str | None = None,
        correcting: Application | None = None,
        status_code: int = 200,
    ) -> Response:
        words = console.words(request, staff.identity.kecamatan)
        return console.render(
            request,
            "desk/form.html",
            staff,
            status_code=status_code,
            kind=kind,
            type_label=desk_form.TYPE_LABELS[kind],
            sections=desk_form.sections(kind),
            checklist=desk_form.checklist(kind, words.lang),
            values=values or {},
            placed=desk_form.place(problems or [], kind, words.lang),
            refusal=refusal,
            correcting=correcting,
            idempotency_key=str(uuid.uuid4()),
        )

    @router.get("/new")
    async def new(request: Request, type: str | None = None) -> Response:
        staff = await console.staff(request, ROLE)
        kind = _kind(type)
        if kind is None:
            return console.render(request, "desk/choose.html", staff, kinds=desk_form.TYPE_LABELS)
        return form_page(request, staff, kind)

    async def _send(
        request: Request,
        staff: Staff,
        kind: ApplicationType,
        correcting: Application | None,
    ) -> Response:
        """Submit (or resubmit) the typed file; a refusal comes back on the same form."""
        office = office_of(staff, request)
        form = await request.form()
        typed = _form_text(form)
        body = desk_form.body_from_form(kind, typed)
        calls = console.calls(staff)
        key = typed.get("idempotency_key") or str(uuid.uuid4())
        try:
            scan = await _scan(form, "kk_scan")
            if scan is not None:
                name, data, content_type = scan
                upload_id = await calls.upload(office, name, data, content_type)
                body["kk_scan"] = {"upload_id": str(upload_id)}
            if correcting is None:
                receipt = await calls.submit({**body, "kecamatan": office}, key)
            else:
                receipt = await calls.resubmit(correcting.application_id, body, key)
        except StageError as refused:
            if refused.status not in (409, 413, 415, 422):
                raise
            words = console.words(request, office)
            return form_page(
                request,
                staff,
                kind,
                values=typed,
                problems=refused.problems,
                refusal=refused.message(words.lang),
                correcting=correcting,
                status_code=422 if refused.status == 422 else 409,
            )
        target = f"/desk/applications/{receipt.application_id}?received=1"
        return RedirectResponse(target, status_code=303)

    @router.post("/new")
    async def submit(request: Request) -> Response:
        staff = await console.staff(request, ROLE)
        kind = _kind(str((await request.form()).get("application_type")))
        if kind is None:
            raise HTTPException(404)
        return await _send(request, staff, kind, None)

    @router.get("/applications/{application_id}")
    async def application(
        request: Request, application_id: UUID, received: bool = False
    ) -> Response:
        staff = await console.staff(request, ROLE)
        app = await console.calls(staff).application(application_id)
        kind = ApplicationType(app.file["application_type"])
        words = console.words(request, app.kecamatan)
        return console.render(
            request,
            "desk/receipt.html",
            staff,
            app=app,
            received=received,
            type_label=desk_form.TYPE_LABELS[kind],
            checklist=desk_form.checklist(kind, words.lang),
            office=office_name(app.kecamatan),
        )

    @router.get("/applications/{application_id}/receipt.pdf")
    async def receipt_pdf(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        app = await console.calls(staff).application(application_id)
        words = console.words(request, app.kecamatan)
        kind = ApplicationType(app.file["application_type"])
        rows = [
            (words("desk.tracking"), app.tracking_number),
            (words("col.name"), str(app.file["applicant"]["name"])),
            (words("col.type"), words(desk_form.TYPE_LABELS[kind])),
            (words("desk.received"), words.when(app.received_at)),
            (words("desk.promised"), words.day(app.deadline)),
        ]
        data = pdfs.receipt(
            words, office_name(app.kecamatan), rows, desk_form.checklist(kind, words.lang)
        )
        return _pdf(data, f"tanda-terima-{app.tracking_number}.pdf")

    # ------------------------------------------------------------ corrections

    @router.get("/corrections")
    async def corrections(request: Request, fragment: bool = False) -> Response:
        staff = await console.staff(request, ROLE)
        items = await console.calls(staff).corrections(office_of(staff, request))
        template = "desk/corrections_list.html" if fragment else "desk/corrections.html"
        return console.render(request, template, staff, items=items)

    async def _sent_back(
        calls: StageCalls, application_id: UUID
    ) -> tuple[Application, ApplicationType]:
        app = await calls.application(application_id)
        if app.state != "sent_back":
            raise HTTPException(404)
        return app, ApplicationType(app.file["application_type"])

    @router.get("/corrections/{application_id}")
    async def correction(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        app, kind = await _sent_back(console.calls(staff), application_id)
        words = console.words(request, app.kecamatan)
        reasons = [
            {"path": r.get("path"), "message_id": r.get("note"), "code": r.get("code")}
            for r in app.sent_back_reasons or []
        ]
        return form_page(
            request,
            staff,
            kind,
            values=desk_form.values_of(app.file),
            problems=reasons,
            refusal=words("desk.reasons"),
            correcting=app,
        )

    @router.post("/corrections/{application_id}")
    async def resubmit(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        app, kind = await _sent_back(console.calls(staff), application_id)
        return await _send(request, staff, kind, app)

    # ------------------------------------------------------------ handover

    @router.get("/handover")
    async def handover_queue(request: Request, q: str = "", fragment: bool = False) -> Response:
        staff = await console.staff(request, ROLE)
        calls = console.calls(staff)
        items = await calls.at_the_desk(office_of(staff, request))
        wanted = q.strip().upper()
        if wanted.isdigit() and len(wanted) == 16:  # a NIK: read each waiting file (own office)
            files = await asyncio.gather(*(calls.application(i.application_id) for i in items))
            items = [
                i for i, f in zip(items, files, strict=True) if f.file["applicant"]["nik"] == wanted
            ]
        elif wanted:
            items = [i for i in items if i.tracking_number.upper() == wanted]
        template = "desk/handover_list.html" if fragment else "desk/handover.html"
        return console.render(request, template, staff, items=items, q=q)

    @router.get("/handover/{application_id}")
    async def handover_form(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        app = await console.calls(staff).application(application_id)
        return console.render(
            request, "desk/handover_form.html", staff, app=app, idempotency_key=str(uuid.uuid4())
        )

    @router.post("/handover/{application_id}")
    async def hand_over(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        calls = console.calls(staff)
        app = await calls.application(application_id)
        form = await request.form()
        typed = _form_text(form)
        signature = _signature(typed.get("signature", ""))
        body: dict[str, Any] = {"presented_nik": typed.get("presented_nik", "").strip()}
        try:
            if not typed.get("id_checked"):  # the officer confirms the check, the stage the NIK
                raise StageError(422, {"detail": [_UNCHECKED]})
            slip = await _scan(form, "signed_slip")
            if slip is not None:
                name, data, content_type = slip
                upload = await calls.upload(
                    app.kecamatan, name, data, content_type, "signed_receipt"
                )
                body["signed_receipt"] = {"upload_id": str(upload)}
            elif signature is not None:
                encoded = base64.b64encode(signature).decode()
                body["signed_receipt"] = {"image_base64": encoded, "content_type": "image/png"}
            done = await calls.hand_over(
                application_id, body, typed.get("idempotency_key") or str(uuid.uuid4())
            )
        except StageError as refused:
            if refused.status not in (409, 413, 415, 422):
                raise
            words = console.words(request, app.kecamatan)
            return console.render(
                request,
                "desk/handover_form.html",
                staff,
                status_code=refused.status,
                app=app,
                idempotency_key=str(uuid.uuid4()),
                refusal=refused.message(words.lang),
                problems=refused.problems,
                presented_nik=body["presented_nik"],
            )
        proofs[application_id] = signature or b""
        while len(proofs) > _PROOFS_KEPT:
            proofs.popitem(last=False)
        return console.render(request, "desk/handed_over.html", staff, app=app, done=done)

    @router.get("/handover/{application_id}/proof.pdf")
    async def proof_pdf(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        app = await console.calls(staff).application(application_id)
        if app.state != "collected":
            raise HTTPException(404)
        words = console.words(request, app.kecamatan)
        rows = [
            (words("desk.tracking"), app.tracking_number),
            (words("col.name"), str(app.file["applicant"]["name"])),
            (words("field.nik"), str(app.file["applicant"]["nik"])),
            (words("pdf.officer"), staff.identity.username),
            (words("pdf.collected"), app.receipt_reference or ""),
        ]
        data = pdfs.proof(
            words, office_name(app.kecamatan), rows, proofs.get(application_id) or None
        )
        return _pdf(data, f"bukti-penerimaan-{app.tracking_number}.pdf")

    return router


def _signature(value: str) -> bytes | None:
    """The PNG the signature pad drew (a data URL), or None when nothing was drawn."""
    if not value.startswith(SIGNATURE_PREFIX):
        return None
    try:
        return base64.b64decode(value[len(SIGNATURE_PREFIX) :], validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        return None


def _pdf(data: bytes, filename: str) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(data, media_type="application/pdf", headers=headers)
