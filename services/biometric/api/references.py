"""The ABIS's reference URLs (MOSIP's referenceURL): ``GET /abis/references/{record_id}`` serves
a record's dedupe-finger templates to the ABIS inserting it, so no biometric data travels on
Kafka; ``GET /abis/batches/{import_id}`` pages through an import of earlier records for the
ABIS's batch insert. Machine access only: a client-credentials token of one of the configured
ABIS clients (``TUNTAS_BIOMETRIC_ABIS_CLIENTS``)."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from services.biometric import rules, store
from services.biometric.items import Finger
from services.biometric.workflow import Stage
from services.runtime.auth import Access, Identity, authenticated
from services.runtime.db import caller_scope
from services.runtime.service import Runtime


def router(runtime: Runtime, stage: Stage, access: Access) -> APIRouter:
    routes = APIRouter()
    anyone = authenticated(access.verifier)

    # Dependencies as defaults, not in Annotated: these closures are not module globals, so
    # FastAPI could not resolve them from postponed annotations.
    def abis_only(identity: Identity = Depends(anyone)) -> Identity:  # noqa: B008
        if not identity.is_machine or identity.username not in stage.abis_clients:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "for the ABIS only")
        return identity

    abis = Depends(abis_only)

    @routes.get(
        "/abis/references/{record_id}",
        summary="a record's dedupe fingers, for the ABIS",
        responses={403: {"description": "not the ABIS"}, 404: {"description": "unknown record"}},
    )
    async def get_reference(
        *, caller: Identity = abis, record_id: Annotated[uuid.UUID, Path()]
    ) -> dict[str, dict[str, str]]:
        """``{"templates": {finger: base64 TOF1}}`` of the thumbs and index fingers captured."""
        async with caller_scope(runtime.pool, caller) as conn:  # the ABIS: every kecamatan
            if await store.get_record(conn, record_id) is None:
                raise HTTPException(404, "no such biometric record")
            templates = await store.load_templates(
                conn, stage.keyring, record_id, rules.DEDUPE_FINGERS
            )
        return {"templates": _b64(templates)}

    @routes.get(
        "/abis/batches/{import_id}",
        summary="a page of an import's records' dedupe fingers, for the ABIS's batch insert",
        responses={403: {"description": "not the ABIS"}},
    )
    async def get_batch(
        *,
        caller: Identity = abis,
        import_id: Annotated[uuid.UUID, Path()],
        after: Annotated[uuid.UUID | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
    ) -> dict[str, list[dict[str, object]]]:
        """``{"references": [{"reference_id", "templates"}]}`` by record id after ``after``;
        an empty list ends the batch."""
        async with caller_scope(runtime.pool, caller) as conn:  # the ABIS: every kecamatan
            page = await store.imported_templates(
                conn, stage.keyring, import_id, rules.DEDUPE_FINGERS, after=after, limit=limit
            )
        return {
            "references": [
                {"reference_id": str(ref), "templates": _b64(templates)}
                for ref, templates in page.items()
            ]
        }

    return routes


def _b64(templates: dict[Finger, bytes]) -> dict[str, str]:
    return {f.value: base64.b64encode(t).decode() for f, t in templates.items()}
