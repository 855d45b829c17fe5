"""The stages' HTTP APIs as the console calls them: typed, async, each call with the
logged-in staff's own bearer token, so every rule of the stages holds in the browser too.

One :class:`StageCalls` per request (``Stages.acting_as(staff)``); a screen module adds the
calls it needs here, grouped by stage. Answers are parsed into small models that keep only
what a screen shows (``extra="ignore"``: a stage may add fields freely).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from services.console.answers import (
    Activated,
    CallRecorded,
    CallTask,
    Case,
    Devices,
    PrintJob,
    Recorded,
    Sms,
    ToRecord,
)
from services.console.settings import ConsoleSettings

_T = TypeVar("_T")
# Backoff between tries of one call (~4 s in all): a stage killed and restarted by its
# supervisor answers again within that on a quiet host.
RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0)


class StageError(Exception):
    """A stage answered with an error the screen shows (4xx), or could not be reached."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {str(body)[:300]}")
        self.status = status
        self.body = body

    @property
    def problems(self) -> list[dict[str, Any]]:
        """The stage's list of problems (each with ``path``/``loc`` and messages), if any."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        return [p for p in detail if isinstance(p, dict)] if isinstance(detail, list) else []

    def message(self, lang: str) -> str:
        if isinstance(self.body, dict):
            text = self.body.get(f"message_{lang}") or self.body.get("message_id")
            if text:
                return str(text)
            detail = self.body.get("detail")
            if isinstance(detail, dict):
                return str(detail.get("message") or detail)
            if isinstance(detail, str):
                return detail
        return str(self.body)[:300]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Requirement(_Answer):
    code: str
    label_id: str
    label_en: str


class Receipt(_Answer):
    application_id: UUID
    tracking_number: str
    revision: int
    kecamatan: str
    office_name: str
    application_type: str
    received_at: str
    deadline: str
    checklist: list[Requirement]


class Application(_Answer):
    """Intake's desk view of one application."""

    application_id: UUID
    kecamatan: str
    tracking_number: str
    state: str
    active: bool
    revision: int
    file: dict[str, Any]
    received_at: str
    deadline: str
    sent_back_reasons: list[dict[str, Any]] | None = None
    storage_place: str | None = None
    receipt_reference: str | None = None


class SentBack(_Answer):
    application_id: UUID
    tracking_number: str
    revision: int
    application_type: str
    applicant_name: str
    sent_back_at: str | None
    reasons: list[dict[str, Any]]


class AtTheDesk(_Answer):
    application_id: UUID
    tracking_number: str
    applicant_name: str
    state: str
    state_label: str
    activated: bool
    storage_place: str | None
    ready_at: str | None


class Collected(_Answer):
    application_id: UUID
    tracking_number: str
    state: str
    collected_at: str | None
    receipt_reference: str | None


class Finding(_Answer):
    code: str
    path: str | None = None
    message_id: str | None = None
    message_en: str | None = None


class WorkItem(_Answer):
    """Validation's work item: the file as accepted and the registry findings beside it."""

    application_id: UUID
    revision: int
    kecamatan: str
    tracking_number: str
    application_type: str
    status: str
    received_at: str
    deadline: str
    applicant: dict[str, Any]
    documents: dict[str, Any]
    findings: list[Finding]
    decided_by: str | None
    decided_at: str | None


class Decided(_Answer):
    application_id: UUID
    revision: int
    decision: str
    staff_id: str
    decided_at: str


class Stages:
    """Where the stages are, and one shared connection pool to them."""

    def __init__(self, settings: ConsoleSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http or httpx.AsyncClient(timeout=30)

    def acting_as(self, access_token: str) -> StageCalls:
        return StageCalls(self, access_token)

    async def close(self) -> None:
        await self.http.aclose()


class StageCalls:
    """The calls one staff member makes, with their token."""

    def __init__(self, stages: Stages, token: str) -> None:
        self._http = stages.http
        self._settings = stages.settings
        self._auth = {"Authorization": f"Bearer {token}"}

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._auth, **kwargs.pop("headers", {})}
        response = await self._with_retries(method, url, headers, kwargs)
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise StageError(response.status_code, body)
        return response

    async def _with_retries(
        self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> httpx.Response:
        """Ride through a stage's restart (a few seconds under its supervisor): a request
        that never reached the stage is sent again, and so is an idempotent one (a read, a
        PUT, or one carrying an ``Idempotency-Key``) that the stage cut or answered 503 with
        ``Retry-After``. Past ``RETRY_DELAYS_S`` the screen says the service is unreachable."""
        idempotent = method in ("GET", "HEAD", "PUT") or "Idempotency-Key" in headers
        for delay in RETRY_DELAYS_S:
            try:
                response = await self._http.request(method, url, headers=headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                pass  # never reached the stage: safe to send again whatever the method
            except httpx.HTTPError as error:
                if not idempotent:
                    raise StageError(503, {"detail": f"{type(error).__name__}"}) from error
            else:
                if not (
                    idempotent and response.status_code == 503 and "Retry-After" in response.headers
                ):
                    return response
            await asyncio.sleep(delay)
        try:
            return await self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise StageError(503, {"detail": f"{type(error).__name__}"}) from error

    async def _call(self, method: str, url: str, answer: type[_T] | Any, **kwargs: Any) -> _T:
        response = await self._send(method, url, **kwargs)
        body = response.json() if response.content else None  # 204: no body
        parsed: _T = TypeAdapter(answer).validate_python(body)
        return parsed

    # ---------------------------------------------------------------- intake (the desk)

    def _intake(self, path: str) -> str:
        return f"{self._settings.intake_url}{path}"

    async def upload(
        self, kecamatan: str, name: str, data: bytes, content_type: str, kind: str = "kk_scan"
    ) -> UUID:
        files = {"file": (name, data, content_type)}
        form = {"kecamatan": kecamatan, "kind": kind}
        ref: dict[str, Any] = await self._call(
            "POST", self._intake("/uploads"), dict[str, Any], files=files, data=form
        )
        return UUID(str(ref["upload_id"]))

    async def submit(self, body: dict[str, Any], idempotency_key: str) -> Receipt:
        headers = {"Idempotency-Key": idempotency_key}
        return await self._call(
            "POST", self._intake("/applications"), Receipt, json=body, headers=headers
        )

    async def resubmit(
        self, application_id: UUID, body: dict[str, Any], idempotency_key: str
    ) -> Receipt:
        headers = {"Idempotency-Key": idempotency_key}
        url = self._intake(f"/applications/{application_id}")
        return await self._call("PUT", url, Receipt, json=body, headers=headers)

    async def application(self, application_id: UUID) -> Application:
        url = self._intake(f"/applications/{application_id}")
        return await self._call("GET", url, Application)

    async def corrections(self, kecamatan: str) -> list[SentBack]:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._intake("/corrections"), list[SentBack], params=params)

    async def at_the_desk(self, kecamatan: str) -> list[AtTheDesk]:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._intake("/handover"), list[AtTheDesk], params=params)

    async def hand_over(
        self, application_id: UUID, body: dict[str, Any], idempotency_key: str
    ) -> Collected:
        url = self._intake(f"/applications/{application_id}/handover")
        headers = {"Idempotency-Key": idempotency_key}
        return await self._call("POST", url, Collected, json=body, headers=headers)

    # ---------------------------------------------------------------- validation (the kasi)

    def _validation(self, path: str) -> str:
        return f"{self._settings.validation_url}{path}"

    async def validation_queue(self, kecamatan: str) -> list[WorkItem]:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._validation("/queue"), list[WorkItem], params=params)

    async def work_items(self, application_id: UUID) -> list[WorkItem]:
        url = self._validation(f"/items/{application_id}")
        return await self._call("GET", url, list[WorkItem])

    async def decide(self, application_id: UUID, action: str, body: dict[str, Any]) -> Decided:
        """``action``: ``approve``, ``send-back`` or ``reject``."""
        url = self._validation(f"/items/{application_id}/{action}")
        return await self._call("POST", url, Decided, json=body)

    # ------------------------------------------------- biometric (the recording operator)

    def _biometric(self, path: str) -> str:
        return f"{self._settings.biometric_url}{path}"

    async def recording_queue(self, kecamatan: str) -> list[ToRecord]:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._biometric("/queue"), list[ToRecord], params=params)

    async def capture_devices(self, kecamatan: str) -> Devices:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._biometric("/devices"), Devices, params=params)

    async def capture(self, application_id: UUID, missing_fingers: dict[str, str]) -> Recorded:
        url = self._biometric(f"/queue/{application_id}/capture")
        body = {"missing_fingers": missing_fingers}
        return await self._call("POST", url, Recorded, json=body, timeout=120)

    async def duplicate_cases(self, kecamatan: str) -> list[Case]:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._biometric("/adjudication"), list[Case], params=params)

    async def adjudicate(self, case_id: str, decision: str, note: str | None) -> dict[str, str]:
        url = self._biometric(f"/adjudication/{case_id}")
        body = {"decision": decision, "note": note}
        return await self._call("POST", url, dict[str, str], json=body)

    # ------------------------------------ card_production (the office's card station)

    def _station(self, kecamatan: str, path: str) -> str:
        base = self._settings.station_urls.get(kecamatan)
        if base is None:
            raise StageError(404, {"detail": f"no card station configured for {kecamatan}"})
        return f"{base.rstrip('/')}{path}"

    async def station_health(self, kecamatan: str) -> dict[str, Any]:
        """The station's printer, reader, queues, blanks and alerts (also when unhealthy)."""
        try:
            url = self._station(kecamatan, "/health")
            health: dict[str, Any] = await self._call("GET", url, dict[str, Any])
        except StageError as error:
            if error.status != 503 or not isinstance(error.body, dict):
                raise
            health = error.body
        station: dict[str, Any] = health.get("station") or {}
        return station

    async def stock(self, kecamatan: str) -> dict[str, Any]:
        return await self._call("GET", self._station(kecamatan, "/stock"), dict[str, Any])

    async def print_jobs(self, kecamatan: str) -> list[PrintJob]:
        return await self._call("GET", self._station(kecamatan, "/jobs"), list[PrintJob])

    async def print_job(self, kecamatan: str, application_id: UUID) -> PrintJob:
        url = self._station(kecamatan, f"/jobs/{application_id}")
        return await self._call("GET", url, PrintJob)

    async def spoil_blank(self, kecamatan: str, serial: str, reason: str, note: str | None) -> None:
        url = self._station(kecamatan, f"/stock/blanks/{serial}/spoil")
        await self._call("POST", url, type(None), json={"reason": reason, "note": note})

    async def issue_certificate(self, kecamatan: str, application_id: UUID) -> dict[str, Any]:
        url = self._station(kecamatan, f"/jobs/{application_id}/certificate")
        return await self._call("POST", url, dict[str, Any], json={})

    async def certificate_pdf(self, kecamatan: str, application_id: UUID) -> bytes:
        url = self._station(kecamatan, f"/jobs/{application_id}/certificate.pdf")
        return (await self._send("GET", url)).content

    async def activate(
        self, kecamatan: str, application_id: UUID, finger: dict[str, str], pin: str
    ) -> Activated:
        """``finger``: ``fingerprint_image_b64`` (a scanner's image) or, on the simulated
        device, ``simulated_finger_seed``."""
        url = self._station(kecamatan, f"/cards/{application_id}/activate")
        return await self._call("POST", url, Activated, json={**finger, "pin": pin})

    # ------------------------------------------------------- notification (the caller)

    def _notification(self, path: str) -> str:
        return f"{self._settings.notification_url}{path}"

    async def call_list(self, kecamatan: str) -> list[CallTask]:
        params = {"kecamatan": kecamatan}
        return await self._call("GET", self._notification("/calls"), list[CallTask], params=params)

    async def call_outcome(self, call_id: int, body: dict[str, Any]) -> CallRecorded:
        url = self._notification(f"/calls/{call_id}/outcome")
        return await self._call("POST", url, CallRecorded, json=body)

    async def sms_log(self, kecamatan: str) -> list[Sms]:
        params = {"kecamatan": kecamatan, "limit": "200"}
        return await self._call("GET", self._notification("/messages"), list[Sms], params=params)

    # ---------------------------------------- service_quality (the dashboard), any /health

    def _service_quality(self, path: str) -> str:
        return f"{self._settings.service_quality_url}{path}"

    async def today_figures(self, kecamatan: str | None) -> dict[str, Any]:
        """Today so far and the pipeline now; ``None``: the whole district."""
        params = {"kecamatan": kecamatan} if kecamatan else {}
        url = self._service_quality("/reports/today")
        return await self._call("GET", url, dict[str, Any], params=params)

    async def monthly_figures(self, kecamatan: str | None) -> dict[str, Any]:
        """This month so far (the monthly performance report's figures)."""
        params = {"kecamatan": kecamatan} if kecamatan else {}
        url = self._service_quality("/reports/monthly")
        return await self._call("GET", url, dict[str, Any], params=params)

    async def refusals(self, kecamatan: str | None, since: datetime) -> dict[str, Any]:
        """Intake's count of files refused at the desk since ``since``, by reason."""
        params = {"since": since.isoformat(), **({"kecamatan": kecamatan} if kecamatan else {})}
        return await self._call("GET", self._intake("/refusals"), dict[str, Any], params=params)

    async def health(self, base_url: str) -> dict[str, Any]:
        """A stage's ``/health`` (its dead letters, lag); a 503 still carries the snapshot."""
        try:
            return await self._call("GET", f"{base_url}/health", dict[str, Any])
        except StageError as down:
            if down.status == 503 and isinstance(down.body, dict):
                return down.body
            raise
