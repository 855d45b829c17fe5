"""The caller: the office's uncollected cards with the applicant's number and an outcome form
per call (the notification stage then schedules the next contact), and the SMS log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.menu import entry
from services.console.pages import Console, office_of
from services.console.stages import StageError

ROLE = "caller"
MENU = [
    entry("/caller", "menu.caller_calls", ROLE),
    entry("/caller/sms", "menu.caller_sms", ROLE),
]
OUTCOMES = ("reached", "no_answer", "wrong_number", "will_come_on")


def routes(console: Console) -> APIRouter:
    router = APIRouter(prefix="/caller")

    async def call_list(
        request: Request, fragment: bool = False, status_code: int = 200, **shown: Any
    ) -> Response:
        staff = await console.staff(request, ROLE)
        calls = await console.calls(staff).call_list(office_of(staff, request))
        template = "caller/calls_list.html" if fragment else "caller/calls.html"
        context = {"calls": calls, "outcomes": OUTCOMES, **shown}
        return console.render(request, template, staff, status_code, **context)

    @router.get("")
    async def calls(request: Request, fragment: bool = False) -> Response:
        return await call_list(request, fragment)

    @router.post("/calls/{call_id}")
    async def outcome(request: Request, call_id: int) -> Response:
        staff = await console.staff(request, ROLE)
        form = await request.form()
        body = {
            "outcome": str(form.get("outcome", "")),
            "come_on": str(form.get("come_on", "")) or None,
            "note": str(form.get("note", "")).strip()[:500] or None,
        }
        try:
            recorded = await console.calls(staff).call_outcome(call_id, body)
        except StageError as refused:
            if refused.status not in (409, 422):
                raise
            message = refused.message(console.words(request).lang)
            return await call_list(request, status_code=refused.status, refusal=message)
        return await call_list(request, recorded=recorded)

    @router.get("/sms")
    async def sms(request: Request, fragment: bool = False) -> Response:
        staff = await console.staff(request, ROLE)
        messages = await console.calls(staff).sms_log(office_of(staff, request))
        template = "caller/sms_list.html" if fragment else "caller/sms.html"
        return console.render(request, template, staff, messages=list(reversed(messages)))

    return router
