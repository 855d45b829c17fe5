"""The operator's HTTP API: recording queue, capture, adjudication, and the card stations'
claim-check resolution. Biometric bytes leave this service only here, to the station of the
kecamatan the record was released to for printing."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.events import StaffId
from schemas.values import KecamatanCode, RegionLevel, mask_nik, parse_region_code
from services.biometric import applications, rules, store
from services.biometric.applications import Decision
from services.biometric.capture import ALL_ITEMS, FACE, SIGNATURE, Finger
from services.biometric.enrolment import CaptureFailed
from services.biometric.quality import ExceptionReason
from services.biometric.recording import (
    CaptureOrder,
    ConflictError,
    NotFoundError,
    Simulation,
    Stage,
    adjudicate,
    capture,
)
from services.runtime.service import Runtime

KecamatanQuery = Annotated[
    str, Query(description="kecamatan code, e.g. 350805 or 35.08.05", examples=["350805"])
]


def _kecamatan(value: str) -> str:
    try:
        return parse_region_code(value, RegionLevel.KECAMATAN)
    except ValueError as error:
        raise HTTPException(
            422,
            [{"loc": ["query", "kecamatan"], "msg": str(error), "type": "value_error"}],
        ) from None


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SimulationBody(_Body):
    """Simulated devices only (the local default adapter)."""

    seed: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="simulated person; default: derived from the NIK"
    )
    poor_attempts: dict[str, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict,
        description="item → how many first captures come out poor (e.g. finger.right_thumb: 1)",
    )
    absent_fingers: list[Finger] = Field(
        default_factory=list, description="fingers the scanner never detects"
    )

    @field_validator("poor_attempts")
    @classmethod
    def _known_items(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(ALL_ITEMS))
        if unknown:
            raise ValueError(f"unknown item(s) {unknown}; items are {list(ALL_ITEMS)}")
        return value


class CaptureBody(_Body):
    operator_id: StaffId
    missing_fingers: dict[Finger, Literal["amputated", "bandaged"]] = Field(
        default_factory=dict,
        description="fingers the operator sees missing or injured: recorded as exceptions",
    )
    simulate: SimulationBody = SimulationBody()


class CaptureResult(BaseModel):
    application_id: uuid.UUID
    record_id: uuid.UUID
    state: str
    case_id: str | None
    fingerprints_captured: int
    exceptions: list[dict[str, Any]]
    attempts: dict[str, int]


class QueueItem(BaseModel):
    application_id: uuid.UUID
    tracking_number: str
    application_type: str
    name: str
    nik_masked: str
    received_at: datetime


class DecisionBody(_Body):
    decision: Decision
    officer_id: StaffId
    note: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class CaseItem(BaseModel):
    case_id: str
    application_id: uuid.UUID
    tracking_number: str
    name: str
    nik_masked: str
    record_id: uuid.UUID
    candidates: list[dict[str, Any]]
    opened_at: datetime


class Template(BaseModel):
    finger: Finger
    format: str = Field(description="template format (TOF1: the stand-in orientation field)")
    template: str = Field(description="base64")


class CardData(BaseModel):
    """What the card station needs from one record; the sha256 values are of the stored
    ciphertext, as in the print-ready event's claim checks."""

    record_id: uuid.UUID
    kecamatan: str
    photo: str = Field(description="base64")
    photo_media_type: str
    photo_sha256: str
    signature: str = Field(description="base64")
    signature_media_type: str
    signature_sha256: str
    fingerprint_templates: list[Template] = Field(description="the chip's two, in chip order")
    fingerprint_templates_sha256: str


def create_app(runtime: Runtime, stage: Stage) -> FastAPI:
    app = FastAPI(
        title="Tuntas biometric stage",
        description="Recording queue, biometric capture, duplicate adjudication, card data.",
        version="1",
    )

    @app.get("/health")
    async def health() -> JSONResponse:
        snapshot = runtime.health.snapshot()
        return JSONResponse(snapshot, status_code=200 if runtime.health.ok else 503)

    @app.get("/queue", response_model=list[QueueItem], summary="the recording queue")
    async def get_queue(kecamatan: KecamatanQuery) -> list[QueueItem]:
        code = _kecamatan(kecamatan)
        async with runtime.pool.acquire() as conn:
            items = await applications.queue(conn, code)
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

    @app.post(
        "/queue/{application_id}/capture",
        response_model=CaptureResult,
        summary="record one queued applicant",
        responses={
            404: {"description": "unknown application"},
            403: {"description": "the application belongs to another kecamatan"},
            409: {"description": "not queued (already recorded), or a capture is running"},
            422: {"description": "bad input, or a mandatory item (face, signature) failed"},
        },
    )
    async def post_capture(
        application_id: Annotated[uuid.UUID, Path()],
        body: CaptureBody,
        kecamatan: Annotated[
            str | None, Query(description="the operator's kecamatan; refused if different")
        ] = None,
    ) -> CaptureResult:
        if kecamatan is not None:
            code = _kecamatan(kecamatan)
            async with runtime.pool.acquire() as conn:
                found = await applications.get(conn, application_id)
            if found is not None and found.kecamatan != code:
                raise HTTPException(403, "this application belongs to another kecamatan")
        order = CaptureOrder(
            operator_id=body.operator_id,
            declared={f: ExceptionReason(r) for f, r in body.missing_fingers.items()},
            simulation=Simulation(
                seed=body.simulate.seed,
                poor_attempts=body.simulate.poor_attempts,
                absent=tuple(body.simulate.absent_fingers),
            ),
        )
        try:
            done = await capture(runtime, stage, application_id, order)
        except NotFoundError as error:
            raise HTTPException(404, str(error)) from None
        except ConflictError as error:
            raise HTTPException(409, str(error)) from None
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
            case_id=done.case_id,
            fingerprints_captured=done.fingerprints_captured,
            exceptions=[{"item": i, "reason": r, "attempts": n} for i, r, n in done.exceptions],
            attempts=dict(done.attempts),
        )

    @app.get("/adjudication", response_model=list[CaseItem], summary="open duplicate cases")
    async def get_adjudication(kecamatan: KecamatanQuery) -> list[CaseItem]:
        code = _kecamatan(kecamatan)
        out: list[CaseItem] = []
        async with runtime.pool.acquire() as conn:
            for case in await applications.open_cases(conn, code):
                app_row = await applications.get(conn, case.application_id)
                assert app_row is not None
                out.append(
                    CaseItem(
                        case_id=case.case_id,
                        application_id=case.application_id,
                        tracking_number=app_row.tracking_number,
                        name=app_row.validated.applicant.name,
                        nik_masked=mask_nik(app_row.nik),
                        record_id=case.record_id,
                        candidates=list(case.candidates),
                        opened_at=case.opened_at,
                    )
                )
        return out

    @app.post(
        "/adjudication/{case_id}",
        summary="decide a suspected duplicate: clear (print) or confirm (the application ends)",
        responses={404: {"description": "unknown case"}, 409: {"description": "decided"}},
    )
    async def post_adjudication(
        case_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")], body: DecisionBody
    ) -> dict[str, str]:
        try:
            state = await adjudicate(
                runtime, stage, case_id, body.decision, body.officer_id, body.note
            )
        except NotFoundError as error:
            raise HTTPException(404, str(error)) from None
        except ConflictError as error:
            raise HTTPException(409, str(error)) from None
        return {"case_id": case_id, "decision": body.decision.value, "state": state.value}

    @app.get(
        "/records/{record_id}/card-data",
        response_model=CardData,
        summary="photo, signature and chip templates for the kecamatan's card station",
        responses={
            403: {"description": "not released for printing to this kecamatan"},
            404: {"description": "unknown record"},
        },
    )
    async def get_card_data(
        record_id: Annotated[uuid.UUID, Path()], kecamatan: KecamatanQuery
    ) -> CardData:
        code: KecamatanCode = _kecamatan(kecamatan)
        async with runtime.pool.acquire() as conn:
            saved = await store.get_record(conn, record_id)
            if saved is None:
                raise HTTPException(404, "no such biometric record")
            if not await applications.released_to(conn, record_id, code):
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

    return app
