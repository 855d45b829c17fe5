"""The section head (kepala seksi): the validation queue, one file with the population registry
findings beside it, and the decision: approve, send back with reasons, or reject."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from services.console.menu import entry
from services.console.pages import Console, office_of
from services.console.stages import StageError, WorkItem

ROLE = "kasi"
MENU = [entry("/kasi", "menu.kasi_queue", ROLE)]
ACTIONS = {"approve": "approved", "send-back": "sent_back", "reject": "rejected"}


def routes(console: Console) -> APIRouter:
    router = APIRouter(prefix="/kasi")

    @router.get("")
    async def queue(request: Request, fragment: bool = False) -> Response:
        staff = await console.staff(request, ROLE)
        items = await console.calls(staff).validation_queue(office_of(staff, request))
        template = "kasi/queue_list.html" if fragment else "kasi/queue.html"
        return console.render(request, template, staff, items=items)

    async def latest(request: Request, application_id: UUID) -> tuple[Any, WorkItem]:
        staff = await console.staff(request, ROLE)
        items = await console.calls(staff).work_items(application_id)
        if not items:
            raise HTTPException(404)
        return staff, max(items, key=lambda w: w.revision)

    @router.get("/items/{application_id}")
    async def item(request: Request, application_id: UUID) -> Response:
        staff, work = await latest(request, application_id)
        return console.render(request, "kasi/item.html", staff, item=work)

    @router.post("/items/{application_id}/{action}")
    async def decide(request: Request, application_id: UUID, action: str) -> Response:
        if action not in ACTIONS:
            raise HTTPException(404)
        staff, work = await latest(request, application_id)
        form = await request.form()
        note = str(form.get("note", "")).strip() or None
        body: dict[str, Any] = {"revision": work.revision, "note": note}
        if action == "send-back":
            chosen = {str(c) for c in form.getlist("finding")}
            body["reasons"] = [
                {"code": f.code, "field": f.path, "note": (f.message_id or f.code)[:200]}
                for f in work.findings
                if f.code in chosen
            ]
            if note and not body["reasons"]:
                body["reasons"] = [{"code": "kasi_note", "note": note}]
        elif action == "reject":
            body["reason_code"] = str(form.get("reason_code", "")).strip() or "ditolak"
            body["reason"] = str(form.get("reason", "")).strip()
        try:
            decided = await console.calls(staff).decide(application_id, action, body)
        except StageError as refused:
            if refused.status not in (409, 422):
                raise
            words = console.words(request, work.kecamatan)
            return console.render(
                request,
                "kasi/item.html",
                staff,
                status_code=refused.status,
                item=work,
                refusal=refused.message(words.lang)
                if refused.status == 422
                else words("kasi.already"),
            )
        return console.render(request, "kasi/item.html", staff, item=work, decided=decided)

    return router
