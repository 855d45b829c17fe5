"""The card stations: a record's photo, signature and chip templates, resolved from the
print-ready event's claim checks. Biometric bytes leave the service only here, to the station of
the kecamatan the record was released to for printing."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from services.biometric import rules, store
from services.biometric.api.models import CardData, Template
from services.biometric.items import FACE, SIGNATURE
from services.biometric.workflow import Stage
from services.runtime.auth import Access, Identity
from services.runtime.db import caller_scope, scoped
from services.runtime.service import Runtime


def router(runtime: Runtime, stage: Stage, access: Access) -> APIRouter:
    routes = APIRouter()
    station = access.station()

    @routes.get(
        "/records/{record_id}/card-data",
        response_model=CardData,
        summary="photo, signature and chip templates for the kecamatan's card station",
        responses={
            403: {"description": "not released for printing to this kecamatan"},
            404: {"description": "unknown record"},
        },
    )
    async def get_card_data(
        *, caller: Identity = station, record_id: Annotated[uuid.UUID, Path()]
    ) -> CardData:
        """For the card station of the kecamatan the record was released to: the kecamatan is
        the station token's claim (a ``kecamatan`` query parameter is ignored)."""
        code = caller.kecamatan
        assert code is not None  # a station's token names its kecamatan
        async with caller_scope(runtime.pool, caller) as conn:
            released = await store.released_to(conn, record_id, code)
        async with runtime.pool.acquire() as conn, conn.transaction():
            # Every kecamatan, on purpose: an applicant already recorded reuses the record,
            # maybe taken at another office. The station gets it only for a job released to
            # it, which the database answered above in the station's own scope.
            await scoped(conn, None)
            saved = await store.get_record(conn, record_id)
            if saved is None:
                raise HTTPException(404, "no such biometric record")
            if not released:
                raise HTTPException(
                    403, "this record is not released for printing to this kecamatan"
                )
            items, template_digests = await store.digests(conn, record_id)
            checks = rules.claim_checks(
                saved.reference, items, template_digests, stage.chip_fingers
            )
            photo = await store.load_item(conn, stage.keyring, record_id, FACE)
            signature = await store.load_item(conn, stage.keyring, record_id, SIGNATURE)
            templates = await store.load_templates(
                conn, stage.keyring, record_id, checks.chip_fingers
            )

        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        return CardData(
            record_id=record_id,
            kecamatan=code,
            photo=b64(photo.data),
            photo_media_type=photo.media_type,
            photo_sha256=items[FACE],
            signature=b64(signature.data),
            signature_media_type=signature.media_type,
            signature_sha256=items[SIGNATURE],
            fingerprint_templates=[
                Template(finger=f, format=rules.TEMPLATE_FORMAT, template=b64(templates[f]))
                for f in checks.chip_fingers
                if f in templates
            ],
            fingerprint_templates_sha256=checks.fingerprint_templates.sha256,
        )

    return routes
