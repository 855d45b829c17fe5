"""Which office's files a desk officer may touch: their own (a district admin: every one)."""

from __future__ import annotations

from uuid import UUID

from services.intake import context, store
from services.intake.refusals import not_found
from services.runtime.auth import Identity, may_see


async def own_application(
    desk: context.Desk, caller: Identity, application_id: UUID
) -> store.Application:
    """Another office's application answers exactly as a missing one (404): nothing leaks."""
    app = await context.application(desk, caller, application_id)
    if not may_see(caller, app.kecamatan):
        raise not_found()
    return app
