"""The SMS log and the applicant's opt-out."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query

from schemas.values import KecamatanCode
from services.notification import store, workflow
from services.notification.api.models import AppId, SmsStatus
from services.notification.sms.templates import Template
from services.runtime.auth import Access, Identity, may_see, own_office
from services.runtime.db import caller_scope
from services.runtime.service import Runtime


def router(runtime: Runtime, access: Access) -> APIRouter:
    api = APIRouter()
    finders = access.staff("desk", "caller")
    readers = access.staff("caller", "desk", "camat")

    @api.post("/contacts/{application_id}/opt-out")
    async def opt_out(*, caller: Identity = finders, application_id: AppId) -> dict[str, Any]:
        """The applicant does not want SMS or calls; idempotent."""
        async with caller_scope(runtime.pool, caller) as conn:
            contact = await store.contact(conn, application_id.lower())
            mine = contact is not None and may_see(caller, contact["kecamatan"])
            found = mine and await workflow.opt_out(conn, application_id.lower())
        if not found:
            raise HTTPException(404, f"no contact for application {application_id}")
        return {"application_id": application_id.lower(), "opted_out": True}

    @api.get("/messages")
    async def messages(
        caller: Identity = readers,
        status: SmsStatus | None = None,
        kecamatan: KecamatanCode | None = None,
        application_id: UUID | None = None,
        template: Template | None = None,
        after: Annotated[
            int | None, Query(ge=0, description="the last id of the page before")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """SMS and their delivery state, oldest first; ``status=failed`` lists what needs
        attention. A busy office has more than one page: ask again with ``after`` set to the
        last ``id`` of the page before, until a page comes back short."""
        office = own_office(caller, kecamatan)  # before any read: 403 for another office
        async with caller_scope(runtime.pool, caller) as conn:
            return await store.messages(
                conn,
                status=status,
                kecamatan=office,
                application_id=None if application_id is None else str(application_id),
                template=template,
                after=after,
                limit=limit,
            )

    return api
