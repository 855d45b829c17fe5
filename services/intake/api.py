"""The front desk's HTTP API (steps 1-2 and 7-8): receive a complete file and give a receipt,
correct files sent back, hand cards over against a signed receipt, and the public status lookup.

Every state change and the event it emits are written in one transaction (the outbox); the
relay publishes after commit. Refusals are 4xx with a list of problems, each naming its field
(``loc``/``path``) with a machine code and messages in Bahasa Indonesia and English.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI, File, Form, Header, HTTPException, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.application import (
    Applicant,
    ApplicationFile,
    ApplicationType,
    Documents,
)
from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationCancelled,
    CardCollected,
    CardStoredUncollected,
    StaffId,
)
from schemas.regions import Region, Regions, load_regions, lumajang
from schemas.requirements import Problem, check_application, check_file
from schemas.states import CANCELLABLE_STATES, ApplicationState
from schemas.topics import Topics
from schemas.values import (
    InvalidValue,
    KecamatanCode,
    Nik,
    RegionLevel,
    ShortText,
    parse_region_code,
    today_in_indonesia,
)
from schemas.workdays import OfficeHours, WorkingCalendar
from services.intake import rules, store
from services.intake.settings import IntakeSettings
from services.runtime import outbox, status
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.intake")
S = ApplicationState
_IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"

# ---------------------------------------------------------------- errors


def problem_item(problem: Problem, where: str = "body") -> dict[str, Any]:
    """One problem in the response: FastAPI's ``loc``/``msg``/``type`` plus our code and texts."""
    loc: list[str | int] = [
        where,
        *[int(p) if p.isdigit() else p for p in problem.path.split(".") if p],
    ]
    return {
        "loc": loc,
        "path": problem.path,
        "code": problem.code,
        "type": problem.code,
        "msg": problem.message_en,
        "message_id": problem.message_id,
        "message_en": problem.message_en,
    }


class DeskError(Exception):
    """A refusal: an HTTP status and the problems, rendered as ``{"detail": [...]}``."""

    def __init__(
        self,
        status_code: int,
        problems: Sequence[Problem],
        *,
        message_id: str,
        message_en: str,
        where: str = "body",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.status_code = status_code
        self.body: dict[str, Any] = {
            "message_id": message_id,
            "message_en": message_en,
            "detail": [problem_item(p, where) for p in problems],
            **(extra or {}),
        }


def refusal(
    status_code: int,
    code: str,
    path: str,
    message_id: str,
    message_en: str,
    *,
    where: str = "body",
    extra: Mapping[str, Any] | None = None,
) -> DeskError:
    return DeskError(
        status_code,
        [Problem(code=code, path=path, message_id=message_id, message_en=message_en)],
        message_id=message_id,
        message_en=message_en,
        where=where,
        extra=extra,
    )


_MESSAGES_ID: Mapping[str, str] = {
    "missing": "Wajib diisi",
    "json_invalid": "JSON tidak valid",
    "json_type": "Harus berupa JSON",
    "model_type": "Harus berupa objek",
    "model_attributes_type": "Harus berupa objek",
    "dict_type": "Harus berupa objek",
    "list_type": "Harus berupa daftar",
    "string_type": "Harus berupa teks",
    "string_pattern_mismatch": "Format tidak valid",
    "string_too_long": "Isian terlalu panjang",
    "string_too_short": "Isian terlalu pendek",
    "int_type": "Harus berupa bilangan bulat",
    "int_parsing": "Harus berupa bilangan bulat",
    "bool_type": "Harus berupa true atau false",
    "bool_parsing": "Harus berupa true atau false",
    "uuid_type": "Harus berupa UUID",
    "uuid_parsing": "Harus berupa UUID",
    "enum": "Pilihan tidak dikenal",
    "literal_error": "Pilihan tidak dikenal",
    "extra_forbidden": "Isian tidak dikenal",
    "date_type": "Tanggal tidak valid",
    "date_parsing": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
    "date_from_datetime_parsing": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
    "date_from_datetime_inexact": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
}


def problems_from_errors(errors: Sequence[Any]) -> list[tuple[str, Problem]]:
    """FastAPI/pydantic errors as (where, problem): where is body, query, path or header."""
    found = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else "body"
        path = ".".join(loc[1:] if loc and loc[0] == where else loc)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidValue):
            problem = Problem(
                code=cause.code, path=path, message_id=cause.message_id, message_en=cause.message_en
            )
        else:
            kind = str(err.get("type", "value_error"))
            problem = Problem(
                code=kind,
                path=path,
                message_id=_MESSAGES_ID.get(kind, "Isian tidak valid"),
                message_en=str(err.get("msg", "invalid value"))[:300],
            )
        found.append((where, problem))
    return found


_FILE_PARTS = ("application_type", "applicant", "documents")


def _render(status_code: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status_code)


# ---------------------------------------------------------------- request and response models


class ScanInput(BaseModel):
    """A document scan: a reference from ``POST /uploads``, or the file inline in base64."""

    model_config = ConfigDict(extra="forbid")

    upload_id: UUID | None = None
    content_base64: str | None = Field(default=None, description="PDF/JPEG/PNG, at most 5 MB")
    content_type: Literal["application/pdf", "image/jpeg", "image/png"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.upload_id is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of upload_id and content_base64")
        return self


class FileInput(BaseModel):
    """The application file as entered at the desk (schemas.application.ApplicationFile)."""

    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId
    application_type: ApplicationType
    applicant: Applicant
    documents: Documents | None = None
    kk_scan: ScanInput | None = Field(
        default=None, description="The scan of the KK photocopy (required with the photocopy)"
    )

    def application_file(self) -> ApplicationFile:
        return ApplicationFile(
            application_type=self.application_type,
            applicant=self.applicant,
            documents=self.documents or Documents(),
        )


class SubmitApplication(FileInput):
    kecamatan: KecamatanCode = Field(description="The office (kecamatan code, e.g. 350805)")


class ResubmitApplication(FileInput):
    """The corrected file; without ``kk_scan`` the scan handed in before is kept."""


class ScanInfo(BaseModel):
    upload_id: UUID
    content_type: str
    size: int
    sha256: str


class Requirement(BaseModel):
    code: str
    label_id: str
    label_en: str


class Receipt(BaseModel):
    """Tanda terima: what the applicant takes home."""

    application_id: UUID
    tracking_number: str
    revision: int
    kecamatan: str
    office_name: str
    application_type: ApplicationType
    received_at: datetime
    revised_at: datetime
    deadline: datetime
    checklist: list[Requirement]
    status_path: str
    message_id: str
    message_en: str


class SentBackItem(BaseModel):
    application_id: UUID
    tracking_number: str
    revision: int
    application_type: str
    applicant_name: str
    sent_back_at: datetime | None
    reasons: list[dict[str, Any]]
    file: dict[str, Any]


class HandoverItem(BaseModel):
    application_id: UUID
    tracking_number: str
    applicant_name: str
    state: str
    state_label: str
    activated: bool
    storage_place: str | None
    ready_at: datetime | None
    activated_at: datetime | None


class SignedReceipt(BaseModel):
    """The receipt the applicant signed: a signature image (upload, base64) or a scan reference."""

    model_config = ConfigDict(extra="forbid")

    upload_id: UUID | None = None
    image_base64: str | None = None
    content_type: Literal["application/pdf", "image/jpeg", "image/png"] | None = None
    scan_reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9._/:-]{1,100}$")] | None = None


class HandoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId
    presented_nik: Nik = Field(description="The NIK on the identity the collector presents")
    signed_receipt: SignedReceipt | None = None


class StoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId
    storage_place: ShortText | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: StaffId
    reason: ShortText


class HandoverResult(BaseModel):
    application_id: UUID
    tracking_number: str
    state: str
    collected_at: datetime | None
    receipt_reference: str | None


class Office(BaseModel):
    kecamatan: str
    name: str


class PublicStatus(BaseModel):
    """What anyone with the tracking number may see: no NIK, no name."""

    tracking_number: str
    state: str
    state_label: str
    office: Office
    received_at: datetime
    revised_at: datetime
    deadline: datetime
    updated_at: datetime
    ready_since: datetime | None
    collected_at: datetime | None


class UploadRef(BaseModel):
    upload_id: UUID
    kind: str
    content_type: str
    size: int
    sha256: str


# ---------------------------------------------------------------- the desk


class Desk:
    """What the endpoints share: the runtime, settings, the calendar and the offices."""

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.topics = Topics(settings.connections.tuntas_topic_prefix)
        self.calendar = WorkingCalendar()
        self.regions: Regions = (
            load_regions(settings.regions_file) if settings.regions_file else lumajang()
        )
        self.commits = 0

    def office(self, code: str, where: str = "body", path: str = "kecamatan") -> Region:
        try:
            region = self.regions.get(code, RegionLevel.KECAMATAN)
        except InvalidValue as e:
            raise refusal(422, e.code, path, e.message_id, e.message_en, where=where) from None
        if region is None:
            raise refusal(
                422,
                "unknown_kecamatan",
                path,
                "Kecamatan tidak dikenal di wilayah layanan ini",
                "unknown kecamatan for this deployment",
                where=where,
            )
        return region

    def committed(self) -> None:
        """After a commit: wake the relay; crash tests may kill the process here."""
        self.runtime.relay.wake()
        self.commits += 1
        if self.settings.crash_after_commit and self.commits >= self.settings.crash_after_commit:
            os.kill(os.getpid(), signal.SIGKILL)

    def now(self) -> datetime:
        return datetime.now(UTC)


def _receipt(app: store.Application, office: Region) -> dict[str, Any]:
    zone = OfficeHours().zone
    kind = ApplicationType(app.application_type)
    return Receipt(
        application_id=app.id,
        tracking_number=app.tracking_number,
        revision=app.revision,
        kecamatan=app.kecamatan,
        office_name=office.name,
        application_type=kind,
        received_at=app.accepted_at.astimezone(zone),
        revised_at=app.revised_at.astimezone(zone),
        deadline=app.deadline.astimezone(zone),
        checklist=[Requirement(**r) for r in rules.checklist(kind)],
        status_path=f"/status/{app.tracking_number}",
        message_id="Berkas diterima lengkap. Simpan tanda terima ini untuk mengambil KTP-el.",
        message_en="The file is complete. Keep this receipt to collect the KTP-el.",
    ).model_dump(mode="json")


async def _scan_bytes(
    scan: ScanInput | None, max_bytes: int, field: str = "kk_scan"
) -> tuple[bytes, str] | None:
    """Decode and check an inline scan (before any transaction)."""
    if scan is None or scan.content_base64 is None:
        return None
    return _checked(scan.content_base64, scan.content_type, max_bytes, f"{field}.content_base64")


def _checked(text: str, declared: str | None, max_bytes: int, path: str) -> tuple[bytes, str]:
    data = rules.decode_base64(text, max_bytes=max_bytes)
    if isinstance(data, rules.UploadRefusal):
        raise refusal(data.status, data.code, path, data.message_id, data.message_en)
    kind = rules.check_upload(data, declared, max_bytes=max_bytes)
    if isinstance(kind, rules.UploadRefusal):
        raise refusal(kind.status, kind.code, path, kind.message_id, kind.message_en)
    return data, kind


async def _store_scan(
    conn: Conn,
    kecamatan: str,
    kind: str,
    upload_id: UUID | None,
    inline: tuple[bytes, str] | None,
    path: str,
) -> UUID | None:
    """The upload to link: an existing one of this office, or the inline file stored now."""
    if upload_id is not None:
        upload = await store.get_upload(conn, upload_id)
        if upload is None or upload.kecamatan != kecamatan:
            raise refusal(
                422,
                "upload_not_found",
                path,
                "Berkas unggahan tidak ditemukan di kecamatan ini",
                "no such upload at this office",
            )
        return upload.id
    if inline is not None:
        data, content_type = inline
        new_id = uuid4()
        await store.insert_upload(
            conn,
            id=new_id,
            kecamatan=kecamatan,
            kind=kind,
            content_type=content_type,
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
        )
        return new_id
    return None


def _nik_taken(existing: store.Application) -> DeskError:
    return refusal(
        409,
        "active_application_exists",
        "applicant.nik",
        f"NIK ini masih memiliki permohonan aktif dengan nomor {existing.tracking_number}",
        f"this NIK already has an active application: {existing.tracking_number}",
        extra={"tracking_number": existing.tracking_number, "application_id": str(existing.id)},
    )


def _idempotency_reused() -> DeskError:
    return refusal(
        422,
        "idempotency_key_reused",
        "Idempotency-Key",
        "Idempotency-Key sudah dipakai untuk permintaan lain",
        "this Idempotency-Key was used for a different request",
        where="header",
    )


def _replay(stored: store.StoredResponse, request_hash: str) -> JSONResponse:
    if stored.request_hash != request_hash:
        raise _idempotency_reused()
    return JSONResponse(
        stored.response, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


def _check_file(desk: Desk, body: FileInput, raw: Any, has_scan: bool) -> list[Problem]:
    problems = rules.unstorable_text(raw)
    problems += check_file(body.application_file(), today=today_in_indonesia())
    documents = body.documents or Documents()
    if desk.settings.require_kk_scan and documents.kk_photocopy is not None and not has_scan:
        problems.append(rules.missing_kk_scan())
    return problems


def _incomplete(problems: Sequence[Problem]) -> DeskError:
    return DeskError(
        422,
        problems,
        message_id="Berkas tidak lengkap atau tidak sesuai; permohonan tidak diterima",
        message_en="the file is incomplete or wrong; the application was not accepted",
    )


def _accepted_event(
    app_id: UUID,
    kecamatan: str,
    body: FileInput,
    tracking_number: str,
    revision: int,
    deadline: datetime,
    now: datetime,
) -> Envelope:
    payload = ApplicationAccepted(
        tracking_number=tracking_number,
        revision=revision,
        application_type=body.application_type,
        applicant=body.applicant,
        documents=body.documents or Documents(),
        deadline=deadline,
        officer_id=body.officer_id,
    )
    return Envelope.new(payload, application_id=app_id, kecamatan=kecamatan, occurred_at=now)


async def _publish(desk: Desk, conn: Conn, events: Sequence[Envelope]) -> None:
    emits = [Emit(desk.topics.for_event(e.type, e.kecamatan), e) for e in events]
    await outbox.enqueue(conn, emits)
    await status.record(conn, status.transitions(None, list(events)))


def _file_json(body: FileInput) -> dict[str, Any]:
    return body.application_file().model_dump(mode="json")


async def _record_refusal(
    desk: Desk,
    kecamatan: str,
    kind: str | None,
    problems: Sequence[Problem],
    officer_id: str | None,
) -> None:
    try:
        async with desk.runtime.pool.acquire() as conn:
            await store.record_refusal(
                conn, kecamatan, kind, [p.code for p in problems], officer_id
            )
    except (OSError, asyncpg.PostgresError) as e:  # statistics only: never fail the answer
        log.warning("could not record a refusal: %s", e)


# ---------------------------------------------------------------- the app


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def tracked(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _too_large(send, self.limit)


class _TooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def _too_large_body(limit: int) -> dict[str, Any]:
    return {
        "message_id": "Permintaan terlalu besar",
        "message_en": "request body too large",
        "detail": [
            {
                "loc": ["body"],
                "path": "",
                "code": "body_too_large",
                "type": "body_too_large",
                "msg": f"request body exceeds {limit} bytes",
                "message_id": "Permintaan terlalu besar",
                "message_en": f"request body exceeds {limit} bytes",
            }
        ],
    }


async def _too_large(send: Callable[[Any], Awaitable[None]], limit: int) -> None:
    body = json.dumps(_too_large_body(limit)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(runtime: Runtime, settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    desk = Desk(runtime, settings)
    app = FastAPI(
        title="Tuntas intake — front desk (loket pelayanan KTP-el)",
        version="1",
        description=(
            "Procedure steps 1-2 and 7-8: receive a complete file and give a receipt (tanda "
            "terima), correct files sent back by the section head, hand over activated cards "
            "against the applicant's signed receipt, and the public status lookup.\n\n"
            "Refusals are 4xx: `detail` lists the problems, each with `loc`/`path` (the field), "
            "`code`, `message_id` (Bahasa Indonesia) and `message_en`."
        ),
    )
    app.state.desk = desk
    # Largest body: a 5 MB file in base64 (x4/3) plus the JSON around it.
    body_limit = settings.max_upload_bytes * 4 // 3 + 256 * 1024

    @app.exception_handler(DeskError)
    async def _desk_error(request: Request, exc: DeskError) -> JSONResponse:
        return _render(exc.status_code, exc.body)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = problems_from_errors(exc.errors())
        is_file = (request.method == "POST" and request.url.path == "/applications") or (
            request.method == "PUT" and request.url.path.startswith("/applications/")
        )
        if is_file and isinstance(exc.body, dict):
            try:
                found = await _with_file_check(desk, request.method, exc.body, found)
            except Exception:  # the plain errors still name every field: never a 5xx here
                log.exception("requirement check of an invalid request failed")
        body = {
            "message_id": "Isian tidak lengkap atau tidak valid",
            "message_en": "the request is incomplete or invalid",
            "detail": [problem_item(p, w) for w, p in found],
        }
        return _render(422, body)

    @app.get("/health", tags=["ops"])
    async def health() -> JSONResponse:
        snap = runtime.health.snapshot()
        return JSONResponse(snap, status_code=200 if runtime.health.ok else 503)

    # ------------------------------------------------------------ uploads

    @app.post(
        "/uploads",
        status_code=201,
        response_model=UploadRef,
        tags=["desk"],
        responses={
            413: {"description": "file too large"},
            415: {"description": "not PDF/JPEG/PNG"},
        },
    )
    async def upload(
        kecamatan: Annotated[str, Form(description="The office (kecamatan code)")],
        file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 5 MB")],
        kind: Annotated[Literal["kk_scan", "signed_receipt"], Form()] = "kk_scan",
    ) -> JSONResponse:
        """Upload a scan (KK photocopy, signed receipt); use the returned ``upload_id``."""
        office = desk.office(kecamatan)
        data = await file.read(settings.max_upload_bytes + 1)
        checked = rules.check_upload(data, file.content_type, max_bytes=settings.max_upload_bytes)
        if isinstance(checked, rules.UploadRefusal):
            raise refusal(
                checked.status, checked.code, "file", checked.message_id, checked.message_en
            )
        upload_id = uuid4()
        digest = hashlib.sha256(data).hexdigest()
        async with runtime.pool.acquire() as conn:
            await store.insert_upload(
                conn,
                id=upload_id,
                kecamatan=office.code,
                kind=kind,
                content_type=checked,
                sha256=digest,
                content=data,
            )
        ref = UploadRef(
            upload_id=upload_id, kind=kind, content_type=checked, size=len(data), sha256=digest
        )
        return JSONResponse(ref.model_dump(mode="json"), status_code=201)

    # ------------------------------------------------------------ steps 1-2: submission

    @app.post(
        "/applications",
        status_code=201,
        response_model=Receipt,
        tags=["desk"],
        responses={
            200: {"description": "the same request again (Idempotency-Key): the same receipt"},
            409: {"description": "the NIK has an active application (named in the answer)"},
            413: {"description": "scan too large"},
            415: {"description": "scan not PDF/JPEG/PNG"},
            422: {"description": "incomplete or invalid file: the exact missing items"},
        },
    )
    async def submit(
        body: SubmitApplication,
        request: Request,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                pattern=_IDEMPOTENCY_KEY,
                description="Repeat it on retries: one application, the same receipt",
            ),
        ] = None,
    ) -> JSONResponse:
        """Receive a file at the desk. Complete ⇒ a receipt and ``application.accepted``;
        incomplete ⇒ 422 listing what is missing, and nothing enters the pipeline."""
        office = desk.office(body.kecamatan)
        raw = await request.json()
        inline = await _scan_bytes(body.kk_scan, settings.max_upload_bytes)
        problems = _check_file(desk, body, raw, body.kk_scan is not None)
        if problems:
            await _record_refusal(
                desk, office.code, body.application_type.value, problems, body.officer_id
            )
            raise _incomplete(problems)
        digest = rules.request_hash(body.model_dump(mode="json"))
        try:
            async with runtime.pool.acquire() as conn, conn.transaction():
                if idempotency_key is not None:
                    stored = await store.lock_idempotency_key(conn, "submit", idempotency_key)
                    if stored is not None:
                        return _replay(stored, digest)
                existing = await store.active_for_nik(conn, body.applicant.nik)
                if existing is not None:
                    raise _nik_taken(existing)
                scan_id = await _store_scan(
                    conn,
                    office.code,
                    "kk_scan",
                    body.kk_scan.upload_id if body.kk_scan else None,
                    inline,
                    "kk_scan.upload_id",
                )
                now = desk.now()
                day = now.astimezone(desk.calendar.hours.zone).date()
                number = rules.tracking_number(
                    office.code, day, await store.next_serial(conn, office.code, day)
                )
                deadline = desk.calendar.deadline(now, settings.service_working_days)
                app_id = uuid4()
                await store.insert_application(
                    conn,
                    id=app_id,
                    kecamatan=office.code,
                    tracking_number=number,
                    nik=body.applicant.nik,
                    application_type=body.application_type.value,
                    state=S.ACCEPTED.value,
                    file=_file_json(body),
                    kk_scan_id=scan_id,
                    officer_id=body.officer_id,
                    accepted_at=now,
                    deadline=deadline,
                )
                event = _accepted_event(app_id, office.code, body, number, 1, deadline, now)
                await _publish(desk, conn, [event])
                app = await store.get(conn, app_id)
                assert app is not None
                receipt = _receipt(app, office)
                if idempotency_key is not None:
                    await store.save_idempotency_key(
                        conn, "submit", idempotency_key, digest, 201, receipt
                    )
        except asyncpg.UniqueViolationError:
            # Another desk took the NIK at the same moment: name its application.
            async with runtime.pool.acquire() as conn:
                taken = await store.active_for_nik(conn, body.applicant.nik)
            if taken is None:
                raise
            raise _nik_taken(taken) from None
        log.info("accepted %s (%s)", number, body.application_type.value)
        desk.committed()
        return JSONResponse(receipt, status_code=201)

    # ------------------------------------------------------------ step 3 back: corrections

    @app.get("/corrections", response_model=list[SentBackItem], tags=["desk"])
    async def corrections(
        kecamatan: Annotated[str, Query(description="The office (kecamatan code)")],
    ) -> list[SentBackItem]:
        """Files the section head sent back, with the reasons, oldest first."""
        office = desk.office(kecamatan, where="query")
        async with runtime.pool.acquire() as conn:
            apps = await store.in_states(conn, office.code, [S.SENT_BACK.value])
        return [
            SentBackItem(
                application_id=a.id,
                tracking_number=a.tracking_number,
                revision=a.revision,
                application_type=a.application_type,
                applicant_name=a.file["applicant"]["name"],
                sent_back_at=a.sent_back_at,
                reasons=a.sent_back_reasons or [],
                file=a.file,
            )
            for a in apps
        ]

    @app.put(
        "/applications/{application_id}",
        response_model=Receipt,
        tags=["desk"],
        responses={
            404: {"description": "no such application"},
            409: {"description": "not waiting for a correction, or NIK taken"},
            422: {"description": "the corrected file is incomplete or invalid"},
        },
    )
    async def resubmit(
        application_id: UUID,
        body: ResubmitApplication,
        request: Request,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", pattern=_IDEMPOTENCY_KEY)
        ] = None,
    ) -> JSONResponse:
        """Resubmit a corrected file as a new revision (``application.accepted``, revision+1)."""
        raw = await request.json()
        inline = await _scan_bytes(body.kk_scan, settings.max_upload_bytes)
        digest = rules.request_hash(body.model_dump(mode="json"))
        scope = f"resubmit:{application_id}"
        try:
            async with runtime.pool.acquire() as conn, conn.transaction():
                if idempotency_key is not None:
                    stored = await store.lock_idempotency_key(conn, scope, idempotency_key)
                    if stored is not None:
                        return _replay(stored, digest)
                app = await store.get(conn, application_id, for_update=True)
                if app is None:
                    raise _not_found()
                if app.state != S.SENT_BACK:
                    raise refusal(
                        409,
                        "not_awaiting_correction",
                        "application_id",
                        "Permohonan ini tidak sedang menunggu perbaikan",
                        f"this application is not waiting for a correction (state {app.state})",
                        where="path",
                        extra={"state": app.state},
                    )
                has_scan = body.kk_scan is not None or app.kk_scan_id is not None
                problems = _check_file(desk, body, raw, has_scan)
                if problems:
                    raise _incomplete(problems)
                existing = await store.active_for_nik(conn, body.applicant.nik)
                if existing is not None and existing.id != app.id:
                    raise _nik_taken(existing)
                office = desk.office(app.kecamatan)
                scan_id = (
                    await _store_scan(
                        conn,
                        app.kecamatan,
                        "kk_scan",
                        body.kk_scan.upload_id if body.kk_scan else None,
                        inline,
                        "kk_scan.upload_id",
                    )
                    or app.kk_scan_id
                )
                now = desk.now()
                deadline = desk.calendar.deadline(now, settings.service_working_days)
                revision = app.revision + 1
                await store.resubmit(
                    conn,
                    app.id,
                    revision=revision,
                    nik=body.applicant.nik,
                    application_type=body.application_type.value,
                    state=S.ACCEPTED.value,
                    file=_file_json(body),
                    kk_scan_id=scan_id,
                    officer_id=body.officer_id,
                    revised_at=now,
                    deadline=deadline,
                )
                event = _accepted_event(
                    app.id, app.kecamatan, body, app.tracking_number, revision, deadline, now
                )
                await _publish(desk, conn, [event])
                updated = await store.get(conn, app.id)
                assert updated is not None
                receipt = _receipt(updated, office)
                if idempotency_key is not None:
                    await store.save_idempotency_key(
                        conn, scope, idempotency_key, digest, 200, receipt
                    )
        except asyncpg.UniqueViolationError:
            async with runtime.pool.acquire() as conn:
                taken = await store.active_for_nik(conn, body.applicant.nik)
            if taken is None:
                raise
            raise _nik_taken(taken) from None
        desk.committed()
        return JSONResponse(receipt, status_code=200)

    @app.get(
        "/applications/{application_id}",
        tags=["desk"],
        responses={404: {"description": "no such application"}},
    )
    async def application(application_id: UUID) -> dict[str, Any]:
        """The desk's view of one application (staff only: it holds personal data)."""
        async with runtime.pool.acquire() as conn:
            app = await store.get(conn, application_id)
        if app is None:
            raise _not_found()
        return {
            "application_id": str(app.id),
            "kecamatan": app.kecamatan,
            "tracking_number": app.tracking_number,
            "state": app.state,
            "active": app.active,
            "revision": app.revision,
            "file": app.file,
            "kk_scan_id": str(app.kk_scan_id) if app.kk_scan_id else None,
            "received_at": app.accepted_at.isoformat(),
            "revised_at": app.revised_at.isoformat(),
            "deadline": app.deadline.isoformat(),
            "sent_back_reasons": app.sent_back_reasons,
            "storage_place": app.storage_place,
            "closed_reason": app.closed_reason,
            "receipt_reference": app.receipt_reference,
        }

    @app.post(
        "/applications/{application_id}/cancel",
        response_model=HandoverResult,
        tags=["desk"],
        responses={
            404: {"description": "no such application"},
            409: {"description": "a card exists already, or the application ended"},
        },
    )
    async def cancel(application_id: UUID, body: CancelRequest) -> JSONResponse:
        """Withdraw an application (until a chip is encoded): ``application.cancelled``; the
        NIK is free again."""
        async with runtime.pool.acquire() as conn, conn.transaction():
            app = await store.get(conn, application_id, for_update=True)
            if app is None:
                raise _not_found()
            if ApplicationState(app.state) not in CANCELLABLE_STATES:
                raise refusal(
                    409,
                    "not_cancellable",
                    "application_id",
                    "Permohonan tidak dapat dibatalkan pada tahap ini",
                    f"the application cannot be cancelled in state {app.state}",
                    where="path",
                    extra={"state": app.state},
                )
            await store.set_state(
                conn, app.id, S.CANCELLED, active=False, closed_reason="cancelled"
            )
            event = Envelope.new(
                ApplicationCancelled(reason=body.reason, officer_id=body.officer_id),
                application_id=app.id,
                kecamatan=app.kecamatan,
            )
            await _publish(desk, conn, [event])
        desk.committed()
        result = HandoverResult(
            application_id=app.id,
            tracking_number=app.tracking_number,
            state=S.CANCELLED,
            collected_at=None,
            receipt_reference=None,
        )
        return JSONResponse(result.model_dump(mode="json"))

    # ------------------------------------------------------------ steps 7-8: handover

    @app.get("/handover", response_model=list[HandoverItem], tags=["desk"])
    async def handover_queue(
        kecamatan: Annotated[str, Query(description="The office (kecamatan code)")],
    ) -> list[HandoverItem]:
        """Cards at the office waiting for their applicant (ready, stored, activated)."""
        office = desk.office(kecamatan, where="query")
        async with runtime.pool.acquire() as conn:
            apps = await store.in_states(conn, office.code, sorted(rules.AT_THE_DESK))
        return [
            HandoverItem(
                application_id=a.id,
                tracking_number=a.tracking_number,
                applicant_name=a.file["applicant"]["name"],
                state=a.state,
                state_label=rules.STATE_LABELS_ID[ApplicationState(a.state)],
                activated=a.state == S.ACTIVATED,
                storage_place=a.storage_place,
                ready_at=a.ready_at,
                activated_at=a.activated_at,
            )
            for a in apps
        ]

    @app.post("/applications/{application_id}/store", response_model=HandoverResult, tags=["desk"])
    async def store_uncollected(application_id: UUID, body: StoreRequest) -> JSONResponse:
        """Mark a card not collected in time as stored (the applicant is then called)."""
        async with runtime.pool.acquire() as conn, conn.transaction():
            app = await store.get(conn, application_id, for_update=True)
            if app is None:
                raise _not_found()
            if app.state != S.READY_FOR_COLLECTION:
                raise refusal(
                    409,
                    "not_ready_for_collection",
                    "application_id",
                    "Kartu tidak dalam status siap diambil",
                    f"the card is not waiting for collection (state {app.state})",
                    where="path",
                    extra={"state": app.state},
                )
            place = body.storage_place or app.storage_place or "Loket pelayanan"
            await store.set_state(conn, app.id, S.STORED_UNCOLLECTED, storage_place=place)
            event = Envelope.new(
                CardStoredUncollected(storage_place=place),
                application_id=app.id,
                kecamatan=app.kecamatan,
            )
            await _publish(desk, conn, [event])
        desk.committed()
        result = HandoverResult(
            application_id=app.id,
            tracking_number=app.tracking_number,
            state=S.STORED_UNCOLLECTED,
            collected_at=None,
            receipt_reference=None,
        )
        return JSONResponse(result.model_dump(mode="json"))

    @app.post(
        "/applications/{application_id}/handover",
        response_model=HandoverResult,
        tags=["desk"],
        responses={
            404: {"description": "no such application"},
            409: {"description": "card not activated, or already collected"},
            422: {"description": "no signed receipt, or the NIK presented differs"},
        },
    )
    async def handover(
        application_id: UUID,
        body: HandoverRequest,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", pattern=_IDEMPOTENCY_KEY)
        ] = None,
    ) -> JSONResponse:
        """Hand the activated card to its applicant: only against the signed receipt and an
        identity whose NIK is the application's. Emits ``card.collected``."""
        receipt = body.signed_receipt
        sources = (
            []
            if receipt is None
            else [
                s
                for s in (receipt.upload_id, receipt.image_base64, receipt.scan_reference)
                if s is not None
            ]
        )
        if len(sources) != 1:
            raise refusal(
                422,
                "missing_signed_receipt",
                "signed_receipt",
                "Tanda terima yang ditandatangani pemohon wajib dilampirkan (satu: unggahan, "
                "gambar tanda tangan, atau nomor pindaian)",
                "the receipt signed by the applicant is required (exactly one of upload_id, "
                "image_base64, scan_reference)",
            )
        assert receipt is not None
        inline = None
        if receipt.image_base64 is not None:
            inline = _checked(
                receipt.image_base64,
                receipt.content_type,
                settings.max_upload_bytes,
                "signed_receipt.image_base64",
            )
        digest = rules.request_hash(body.model_dump(mode="json"))
        scope = f"handover:{application_id}"
        async with runtime.pool.acquire() as conn, conn.transaction():
            if idempotency_key is not None:
                stored = await store.lock_idempotency_key(conn, scope, idempotency_key)
                if stored is not None:
                    return _replay(stored, digest)
            app = await store.get(conn, application_id, for_update=True)
            if app is None:
                raise _not_found()
            if app.state == S.COLLECTED:
                raise refusal(
                    409,
                    "already_collected",
                    "application_id",
                    "Kartu sudah diserahkan kepada pemohon",
                    "the card has already been handed over",
                    where="path",
                    extra={"state": app.state},
                )
            if app.state != S.ACTIVATED:
                waiting = app.state in (S.READY_FOR_COLLECTION, S.STORED_UNCOLLECTED)
                raise refusal(
                    409,
                    "card_not_activated",
                    "application_id",
                    "Kartu belum diaktivasi; aktivasi dengan sidik jari pemohon dahulu"
                    if waiting
                    else "Kartu belum tersedia di loket",
                    "the card is not activated yet" if waiting else "the card is not at the desk",
                    where="path",
                    extra={"state": app.state},
                )
            if body.presented_nik != app.nik:
                raise refusal(
                    422,
                    "nik_mismatch",
                    "presented_nik",
                    "NIK pada identitas yang ditunjukkan tidak sesuai dengan NIK pemohon",
                    "the NIK presented differs from the applicant's",
                )
            upload_id = await _store_scan(
                conn,
                app.kecamatan,
                "signed_receipt",
                receipt.upload_id,
                inline,
                "signed_receipt.upload_id",
            )
            reference = receipt.scan_reference or f"TT-{app.tracking_number}"
            now = desk.now()
            await store.insert_handover(
                conn,
                application_id=app.id,
                kecamatan=app.kecamatan,
                receipt_upload=upload_id,
                scan_reference=receipt.scan_reference,
                receipt_reference=reference,
                officer_id=body.officer_id,
            )
            await store.set_state(
                conn,
                app.id,
                S.COLLECTED,
                active=False,
                collected_at=now,
                receipt_reference=reference,
                closed_reason="collected",
            )
            event = Envelope.new(
                CardCollected(receipt_reference=reference, officer_id=body.officer_id),
                application_id=app.id,
                kecamatan=app.kecamatan,
                occurred_at=now,
            )
            await _publish(desk, conn, [event])
            result = HandoverResult(
                application_id=app.id,
                tracking_number=app.tracking_number,
                state=S.COLLECTED,
                collected_at=now,
                receipt_reference=reference,
            ).model_dump(mode="json")
            if idempotency_key is not None:
                await store.save_idempotency_key(conn, scope, idempotency_key, digest, 200, result)
        desk.committed()
        return JSONResponse(result)

    # ------------------------------------------------------------ public

    @app.get(
        "/status/{tracking_number}",
        response_model=PublicStatus,
        tags=["public"],
        responses={404: {"description": "unknown tracking number"}},
    )
    async def public_status(
        tracking_number: Annotated[str, Path(pattern=r"^[A-Z0-9-]{6,32}$")],
    ) -> PublicStatus:
        """The state of an application by its tracking number (no personal data)."""
        async with runtime.pool.acquire() as conn:
            app = await store.by_tracking_number(conn, tracking_number)
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
        return PublicStatus(
            tracking_number=app.tracking_number,
            state=app.state,
            state_label=rules.STATE_LABELS_ID[ApplicationState(app.state)],
            office=Office(kecamatan=app.kecamatan, name=office.name),
            received_at=app.accepted_at.astimezone(zone),
            revised_at=app.revised_at.astimezone(zone),
            deadline=app.deadline.astimezone(zone),
            updated_at=app.updated_at.astimezone(zone),
            ready_since=app.ready_at,
            collected_at=app.collected_at,
        )

    @app.exception_handler(_TooLarge)
    async def _body_too_large(request: Request, exc: _TooLarge) -> JSONResponse:
        return _render(413, _too_large_body(body_limit))

    app.add_middleware(BodyLimit, limit=body_limit)
    return app


async def _with_file_check(
    desk: Desk, method: str, body: Mapping[str, Any], found: list[tuple[str, Problem]]
) -> list[tuple[str, Problem]]:
    """The file itself: report everything the requirement check finds, in one go."""
    kept = [(w, p) for w, p in found if not (w == "body" and p.path.split(".")[0] in _FILE_PARTS)]
    raw = {k: body[k] for k in _FILE_PARTS if k in body}
    kept += [("body", p) for p in check_application(raw, today=today_in_indonesia())]
    if method == "POST":
        await _refused_from_raw(desk, body, [p for _, p in kept])
    return kept


def _not_found() -> DeskError:
    return refusal(
        404,
        "application_not_found",
        "application_id",
        "Permohonan tidak ditemukan",
        "no such application",
        where="path",
    )


async def _refused_from_raw(
    desk: Desk, body: Mapping[str, Any], problems: Sequence[Problem]
) -> None:
    """Count a refusal whose request did not even parse, when its office is readable."""
    try:
        code = parse_region_code(body.get("kecamatan"), RegionLevel.KECAMATAN)  # type: ignore[arg-type]
    except InvalidValue:
        return
    if desk.regions.by_code.get(code) is None or not problems:
        return
    kind = body.get("application_type")
    officer = body.get("officer_id")
    await _record_refusal(
        desk,
        code,
        kind if isinstance(kind, str) and kind in {t.value for t in ApplicationType} else None,
        problems,
        officer
        if isinstance(officer, str) and len(officer) <= 64 and not rules.unstorable_text(officer)
        else None,
    )
