"""The recording operator: who still needs recording (live), the office's capture devices, a
capture with the stage's per-item attempts (a poor item is retaken by the stage; a mandatory
item that stays poor is shown and retried); and the section head's duplicate adjudication:
the new record beside the earlier ones the ABIS found, clear or confirm."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from services.console.answers import Devices
from services.console.menu import entry
from services.console.pages import Console, office_of
from services.console.stages import StageCalls, StageError

ROLE = "operator"
ADJUDICATOR = "kasi"  # the biometric API lets the section head decide on duplicates
MENU = [
    entry("/operator", "menu.operator_queue", ROLE),
    entry("/operator/duplicates", "menu.operator_duplicates", ADJUDICATOR),
]
FINGERS = (
    "right_thumb", "right_index", "right_middle", "right_ring", "right_little",
    "left_thumb", "left_index", "left_middle", "left_ring", "left_little",
)  # fmt: skip
MISSING = ("amputated", "bandaged")
DECISIONS = ("clear", "confirm")


async def devices_of(calls: StageCalls, office: str) -> Devices | None:
    """The device status, or ``None`` when the device service does not answer."""
    try:
        return await calls.capture_devices(office)
    except StageError as error:
        if error.status != 503:
            raise
        return None


def routes(console: Console) -> APIRouter:
    router = APIRouter(prefix="/operator")

    @router.get("")
    async def queue(request: Request, fragment: bool = False) -> Response:
        staff = await console.staff(request, ROLE)
        office = office_of(staff, request)
        calls = console.calls(staff)
        items = await calls.recording_queue(office)
        if fragment:
            return console.render(request, "operator/queue_list.html", staff, items=items)
        devices = await devices_of(calls, office)
        return console.render(
            request, "operator/queue.html", staff, items=items, devices=devices, fingers=FINGERS
        )

    @router.get("/capture/{application_id}")
    async def capture_form(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        office = office_of(staff, request)
        calls = console.calls(staff)
        found = [
            i for i in await calls.recording_queue(office) if i.application_id == application_id
        ]
        if not found:
            raise HTTPException(404)
        devices = await devices_of(calls, office)
        context: dict[str, Any] = {"item": found[0], "devices": devices, "fingers": FINGERS}
        return console.render(request, "operator/capture.html", staff, **context)

    @router.post("/capture/{application_id}")
    async def capture(request: Request, application_id: UUID) -> Response:
        staff = await console.staff(request, ROLE)
        office = office_of(staff, request)
        form = await request.form()
        missing = {
            finger: str(form.get(f"missing.{finger}"))
            for finger in FINGERS
            if form.get(f"missing.{finger}") in MISSING
        }
        calls = console.calls(staff)
        try:
            recorded = await calls.capture(application_id, missing)
        except StageError as refused:
            if refused.status not in (409, 422, 503):
                raise
            found = [
                i for i in await calls.recording_queue(office) if i.application_id == application_id
            ]
            detail = refused.body.get("detail") if isinstance(refused.body, dict) else None
            context: dict[str, Any] = {
                "item": found[0] if found else None,
                "devices": await devices_of(calls, office),
                "fingers": FINGERS,
                "missing": missing,
                "failed": detail if isinstance(detail, dict) else None,
                "refusal": refused.message(console.words(request).lang),
                "refusal_status": refused.status,
            }
            return console.render(
                request, "operator/capture.html", staff, status_code=refused.status, **context
            )
        return console.render(request, "operator/captured.html", staff, recorded=recorded)

    @router.get("/duplicates")
    async def duplicates(request: Request, fragment: bool = False) -> Response:
        staff = await console.staff(request, ADJUDICATOR)
        cases = await console.calls(staff).duplicate_cases(office_of(staff, request))
        template = "operator/duplicates_list.html" if fragment else "operator/duplicates.html"
        return console.render(request, template, staff, cases=cases)

    @router.post("/duplicates/{case_id}")
    async def adjudicate(request: Request, case_id: str) -> Response:
        staff = await console.staff(request, ADJUDICATOR)
        office = office_of(staff, request)
        form = await request.form()
        decision = str(form.get("decision", ""))
        if decision not in DECISIONS:
            raise HTTPException(422)
        note = str(form.get("note", "")).strip()[:500] or None
        calls = console.calls(staff)
        outcome: dict[str, Any] = {}
        try:
            outcome["decided"] = await calls.adjudicate(case_id, decision, note)
        except StageError as refused:
            if refused.status != 409:
                raise
            outcome["refusal"] = console.words(request)("operator.case_decided")
        cases = await calls.duplicate_cases(office)
        return console.render(request, "operator/duplicates.html", staff, cases=cases, **outcome)

    return router
