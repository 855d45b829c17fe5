"""The recording operator: the kecamatan's recording queue and capturing one applicant."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from schemas.values import mask_nik
from services.biometric import store, workflow
from services.biometric.api.models import (
    CaptureBody,
    CaptureResult,
    KecamatanQuery,
    QueueItem,
    own_kecamatan,
)
from services.biometric.devices import DeviceError
from services.biometric.enrolment import CaptureFailed
from services.biometric.quality import ExceptionReason
from services.biometric.workflow import CaptureOrder, ConflictError, NotFoundError, Stage
from services.runtime.auth import Access, Identity, may_see
from services.runtime.db import caller_scope
from services.runtime.service import Runtime


def router(runtime: Runtime, stage: Stage, access: Access) -> APIRouter:
    routes = APIRouter()
    operator = access.staff("operator")

    @routes.get("/queue", response_model=list[QueueItem], summary="the recording queue")
    async def get_queue(
        *, caller: Identity = operator, kecamatan: KecamatanQuery
    ) -> list[QueueItem]:
        code = own_kecamatan(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            items = await store.queue(conn, code)
        return [
            QueueItem(
                application_id=a.application_id,
                tracking_number=a.tracking_number,
                application_type=a.application_type.value,
                name=a.validated.applicant.name,
                nik_masked=mask_nik(a.nik),
                received_at=a.received_at,
            )
            for a in items
        ]

    @routes.get(
        "/devices",
        summary="the office's capture devices: ready, busy or not ready",
        responses={503: {"description": "the station's capture devices did not answer"}},
    )
    async def get_devices(
        *, caller: Identity = operator, kecamatan: KecamatanQuery
    ) -> dict[str, Any]:
        """The station's device status as its device service reports it (capture-devices.md)."""
        code = own_kecamatan(caller, kecamatan)
        try:
            return await stage.devices.status(code)
        except DeviceError as error:
            raise HTTPException(503, str(error)) from None

    @routes.post(
        "/queue/{application_id}/capture",
        response_model=CaptureResult,
        summary="record one queued applicant",
        responses={
            404: {"description": "unknown application, or another kecamatan's"},
            409: {"description": "not queued (already recorded), or a capture is running"},
            422: {"description": "bad input, or a mandatory item (face, signature) failed"},
            503: {"description": "the station's capture devices did not answer"},
        },
    )
    async def post_capture(
        *,
        caller: Identity = operator,
        application_id: Annotated[uuid.UUID, Path()],
        body: CaptureBody,
    ) -> CaptureResult:
        async with caller_scope(runtime.pool, caller) as conn:
            found = await store.get_application(conn, application_id)
        if found is None or not may_see(caller, found.kecamatan):
            # Not in the caller's scope: the capture (in the service's scope) never starts.
            raise HTTPException(404, f"unknown application {application_id}")
        order = CaptureOrder(
            operator_id=caller.username,
            declared={f: ExceptionReason(r) for f, r in body.missing_fingers.items()},
        )
        try:
            done = await workflow.capture(runtime, stage, application_id, order)
        except NotFoundError as error:
            raise HTTPException(404, str(error)) from None
        except ConflictError as error:
            raise HTTPException(409, str(error)) from None
        except DeviceError as error:
            raise HTTPException(503, f"{error}; nothing stored, try again") from None
        except CaptureFailed as error:
            raise HTTPException(
                422,
                {
                    "msg": f"{error.item} could not be captured: nothing stored; try again",
                    "item": error.item,
                    "findings": [{"code": f.code, "detail": f.detail} for f in error.findings],
                },
            ) from None
        return CaptureResult(
            application_id=done.application_id,
            record_id=done.record_id,
            state=done.state.value,
            fingerprints_captured=done.fingerprints_captured,
            exceptions=[{"item": i, "reason": r, "attempts": n} for i, r, n in done.exceptions],
            attempts=dict(done.attempts),
        )

    return routes
