"""The public route: an application's state by its tracking number, without personal data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from schemas.states import ApplicationState
from services.intake import context, models, rules
from services.intake.refusals import refusal


def routes(desk: context.Desk) -> APIRouter:
    router = APIRouter(tags=["public"])

    @router.get(
        "/status/{tracking_number}",
        response_model=models.PublicStatus,
        responses=models.responses((404, "unknown tracking number")),
    )
    async def public_status(
        tracking_number: Annotated[str, Path(pattern=r"^[A-Z0-9-]{6,32}$")],
    ) -> models.PublicStatus:
        """The state of an application by its tracking number (no personal data)."""
        app = await context.tracked(desk, tracking_number)
        if app is None:
            raise refusal(
                404,
                "unknown_tracking_number",
                "tracking_number",
                "Nomor tanda terima tidak ditemukan",
                "unknown tracking number",
                where="path",
            )
        office = desk.office(app.kecamatan)
        zone = desk.calendar.hours.zone
        return models.PublicStatus(
            tracking_number=app.tracking_number,
            state=app.state,
            state_label=rules.STATE_LABELS_ID[ApplicationState(app.state)],
            office=models.Office(kecamatan=app.kecamatan, name=office.name),
            received_at=app.accepted_at.astimezone(zone),
            revised_at=app.revised_at.astimezone(zone),
            deadline=app.deadline.astimezone(zone),
            updated_at=app.updated_at.astimezone(zone),
            ready_since=app.ready_at,
            collected_at=app.collected_at,
        )

    return router
