"""The stages' HTTP APIs as the console calls them: typed, async, each call with the
logged-in staff's own bearer token, so every rule of the stages holds in the browser too.

One :class:`StageCalls` per request (``Stages.acting_as(staff)``); a screen module adds the
calls it needs here, grouped by stage. Answers are parsed into small models that keep only
what a screen shows (``extra="ignore"``: a stage may add fields freely).
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from services.console.settings import ConsoleSettings

_T = TypeVar("_T")


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

    async def _call(self, method: str, url: str, answer: type[_T] | Any, **kwargs: Any) -> _T:
        headers = {**self._auth, **kwargs.pop("headers", {})}
        try:
            response = await self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise StageError(503, {"detail": f"{type(error).__name__}"}) from error
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise StageError(response.status_code, body)
        parsed: _T = TypeAdapter(answer).validate_python(response.json())
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
