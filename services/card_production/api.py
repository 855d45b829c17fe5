"""The station's HTTP API: stock, the print queue, certificates, activation, escalations."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, StringConstraints, model_validator

from schemas.events import SpoilReason, StaffId
from services.card_production import fingerprint, store
from services.card_production.rules import InvalidSerialRange
from services.card_production.station import Conflict, NotFound, Station, Unavailable
from services.runtime.service import Runtime

Serial = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")]
Pin = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class BatchIn(BaseModel):
    batch_ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,64}$")]
    first_serial: Serial
    last_serial: Serial
    received_by: StaffId


class SpoilIn(BaseModel):
    reason: SpoilReason
    note: Annotated[str, StringConstraints(max_length=180)] | None = None


class CertificateIn(BaseModel):
    officer_id: StaffId


class ActivateIn(BaseModel):
    """The applicant's live fingerprint: a captured image (base64), or for the simulated
    capture device, the seed of a simulated finger."""

    officer_id: StaffId
    pin: Pin  # the PIN the holder chooses
    fingerprint_image_b64: str | None = None
    simulated_finger_seed: (
        Annotated[str, StringConstraints(min_length=1, max_length=200)] | None
    ) = None

    @model_validator(mode="after")
    def _one_capture(self) -> ActivateIn:
        if (self.fingerprint_image_b64 is None) == (self.simulated_finger_seed is None):
            raise ValueError("give exactly one of fingerprint_image_b64, simulated_finger_seed")
        return self


def _job(row: Any) -> dict[str, Any]:
    out = {
        k: row[k]
        for k in (
            "tracking_number", "application_type", "priority", "state", "blank_serial",
            "chip_serial", "print_job", "storage_place", "attempts", "held",
            "activation_failures", "certificate_number", "last_error",
        )
    }  # fmt: skip
    out["application_id"] = str(row["application_id"])
    out["kecamatan"] = row["kecamatan"]
    out["updated_at"] = row["updated_at"].isoformat()
    return out


def _fail(exc: Exception) -> HTTPException:
    code = {NotFound: 404, Conflict: 409, Unavailable: 503}.get(type(exc), 400)
    return HTTPException(code, str(exc))


def create_app(runtime: Runtime, station: Station) -> FastAPI:
    kec = station.kecamatan
    app = FastAPI(
        title=f"Tuntas card production — station {kec}",
        description="Encode and print KTP-el at the kecamatan office; blank stock; activation.",
    )

    @app.get("/health")
    async def health() -> JSONResponse:
        runtime.health.extra["station"] = await station.snapshot()
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    @app.post("/stock/batches", status_code=201)
    async def receive_batch(body: BatchIn, response: Response) -> dict[str, Any]:
        """A delivery of blanks (a serial range); waiting jobs resume by themselves.
        Idempotent per ``batch_ref``: the same range again answers 200."""
        try:
            batch, created = await station.receive_batch(
                body.batch_ref, body.first_serial, body.last_serial, body.received_by
            )
        except InvalidSerialRange as exc:
            raise HTTPException(422, [{"loc": ["body", "last_serial"], "msg": str(exc)}]) from exc
        except Conflict as exc:
            raise _fail(exc) from exc
        if not created:
            response.status_code = 200
        return batch

    @app.post("/stock/blanks/{serial}/spoil", status_code=204)
    async def spoil_blank(serial: Serial, body: SpoilIn) -> None:
        """A blank found damaged in storage."""
        try:
            await station.spoil_blank(serial, body.reason, body.note)
        except (NotFound, Conflict) as exc:
            raise _fail(exc) from exc

    @app.get("/stock")
    async def stock() -> dict[str, Any]:
        async with runtime.pool.acquire() as conn:
            counts = await store.stock_counts(conn, kec)
            batches = await conn.fetch(
                "SELECT * FROM blank_batches WHERE kecamatan = $1 ORDER BY id", kec
            )
            spoiled = await conn.fetch(
                "SELECT serial, application_id, spoil_reason, spoil_note, updated_at FROM blanks"
                " WHERE kecamatan = $1 AND state = 'spoiled' ORDER BY updated_at",
                kec,
            )
        return {
            "kecamatan": kec,
            "blanks_available": counts["available"],
            "counts": counts,
            "low_stock_threshold": station.settings.low_stock_threshold,
            "batches": [
                {"batch_ref": b["batch_ref"], "first_serial": b["first_serial"],
                 "last_serial": b["last_serial"], "count": b["count"]}
                for b in batches
            ],
            "spoiled": [
                {"serial": s["serial"], "reason": s["spoil_reason"], "note": s["spoil_note"],
                 "application_id": str(s["application_id"]) if s["application_id"] else None,
                 "at": s["updated_at"].isoformat()}
                for s in spoiled
            ],
        }  # fmt: skip

    @app.get("/jobs")
    async def jobs(
        state: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
    ) -> list[dict[str, Any]]:
        """The station's print jobs in production order (new before replacement, then FIFO)."""
        async with runtime.pool.acquire() as conn:
            return [_job(r) for r in await store.list_jobs(conn, kec, state)]

    @app.get("/jobs/{application_id}")
    async def job(application_id: UUID) -> dict[str, Any]:
        async with runtime.pool.acquire() as conn:
            row = await store.get_job(conn, kec, application_id)
        if row is None:
            raise HTTPException(404, f"no print job for {application_id} at this station")
        return _job(row)

    @app.post("/jobs/{application_id}/certificate", status_code=201)
    async def certificate(application_id: UUID, body: CertificateIn) -> dict[str, Any]:
        """Issue the temporary Surat Keterangan while the job waits for blanks."""
        try:
            return await station.issue_certificate(application_id, body.officer_id)
        except (NotFound, Conflict, Unavailable) as exc:
            raise _fail(exc) from exc

    @app.get("/jobs/{application_id}/certificate.pdf", response_model=None)
    async def certificate_pdf(application_id: UUID) -> FileResponse:
        async with runtime.pool.acquire() as conn:
            row = await store.get_job(conn, kec, application_id)
        if row is None or row["certificate_path"] is None:
            raise HTTPException(404, "no certificate issued for this application")
        return FileResponse(row["certificate_path"], media_type="application/pdf")

    @app.post("/cards/{application_id}/activate")
    async def activate(application_id: UUID, body: ActivateIn) -> dict[str, Any]:
        """Step 6, with the applicant present: match the live finger against the chip, then
        set the holder's PIN. A miss answers ``matched: false``; the third escalates."""
        if body.fingerprint_image_b64 is not None:
            try:
                image = base64.b64decode(body.fingerprint_image_b64, validate=True)
                live = fingerprint.template(image)
            except (binascii.Error, fingerprint.TemplateError) as exc:
                raise HTTPException(
                    422, [{"loc": ["body", "fingerprint_image_b64"], "msg": str(exc)}]
                ) from exc
        else:
            assert body.simulated_finger_seed is not None
            live = fingerprint.template(fingerprint.simulated_finger(body.simulated_finger_seed))
        try:
            result = await station.activate(application_id, body.officer_id, live, body.pin)
        except (NotFound, Conflict, Unavailable) as exc:
            raise _fail(exc) from exc
        return {
            "matched": result.matched,
            "score": result.score,
            "failures": result.failures,
            "escalated": result.escalated,
            "chip_serial": result.chip_serial,
        }

    @app.get("/escalations")
    async def escalations() -> list[dict[str, Any]]:
        async with runtime.pool.acquire() as conn:
            rows = await store.escalations(conn, kec)
        return [
            {"id": r["id"], "application_id": str(r["application_id"]), "reason": r["reason"],
             "detail": r["detail"], "created_at": _iso(r["created_at"])}
            for r in rows
        ]  # fmt: skip

    return app


def _iso(value: datetime) -> str:
    return value.isoformat()
