"""The office mailbox's intake log, for district IT: each message the IMAP poll took and what it
became (filed with its tickets, a duplicate of one filed, or set aside with the reason)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.runtime.auth import Access, Identity
from services.runtime.service import Runtime
from services.service_quality import imap, store, workflow


def router(runtime: Runtime, ctx: workflow.Context, access: Access) -> APIRouter:
    api = APIRouter(tags=["mailbox"])
    district_it = access.staff()  # no office role: the district admin only

    @api.get("/mailbox/inbound")
    async def inbound(caller: Identity = district_it) -> list[dict[str, Any]]:
        """Every office's mail (one mailbox serves them all), oldest first."""
        if not ctx.settings.imap_url:
            return []
        async with runtime.pool.acquire() as conn:
            return await store.inbound_mail(conn, imap.parse_url(ctx.settings.imap_url).key)

    return api
