"""Every route of every stage against the real identity provider, from the stages' own OpenAPI.

ROUTES is the expected role map: a route a stage serves that is missing here fails the test, so a
new route cannot be added without deciding who may call it. For each route that is not public:
no token, a tampered, an expired or a wrong-audience token → 401; a token without one of its
roles → 403; for routes naming a kecamatan (query or path), the right role of another office →
403 with nothing of the office's data in the body. The apps are the stages' own ``create_app``;
every refusal here comes before a handler runs, so their runtime is never reached (a record of
another office read end to end: ``test_cross_kecamatan_read``, with the real intake stage).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from services.biometric.api import create_app as biometric_app
from services.card_production.api import create_app as station_app
from services.intake.api import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.notification.api import create_app as notification_app
from services.notification.settings import NotificationSettings
from services.runtime.health import Health
from services.service_quality.api import create_app as quality_app
from services.service_quality.settings import ServiceQualitySettings
from services.validation.api import create_app as validation_app
from services.validation.settings import ValidationSettings
from tests.intake.kit import Desk, new_card_file, running, settings_for
from tests.kit.tokens import (
    DISTRICT_ADMIN as DISTRICT,
)
from tests.kit.tokens import (
    KUNIR,
    TEMPEH,
    bearer,
    machine_token,
    staff,
    staff_token,
)
from tests.waiting import wait_for

PUBLIC = frozenset({"public"})
STATION = frozenset({"station"})  # a card station's machine token
ROLES = ("desk", "kasi", "operator", "card_operator", "caller", "camat")


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


COMPLAINTS = _roles("desk", "camat")
ROUTES: dict[str, dict[tuple[str, str], frozenset[str]]] = {
    "intake": {
        ("GET", "/health"): PUBLIC,
        ("GET", "/status/{tracking_number}"): PUBLIC,
        ("POST", "/uploads"): _roles("desk"),
        ("POST", "/applications"): _roles("desk"),
        ("GET", "/applications/{application_id}"): _roles("desk", "kasi", "camat"),
        ("PUT", "/applications/{application_id}"): _roles("desk"),
        ("POST", "/applications/{application_id}/cancel"): _roles("desk"),
        ("GET", "/corrections"): _roles("desk"),
        ("GET", "/handover"): _roles("desk"),
        ("GET", "/refusals"): _roles("camat", "kasi"),
        ("POST", "/applications/{application_id}/store"): _roles("desk"),
        ("POST", "/applications/{application_id}/handover"): _roles("desk"),
    },
    "validation": {
        ("GET", "/health"): PUBLIC,
        ("GET", "/queue"): _roles("kasi", "camat"),
        ("GET", "/items/{application_id}"): _roles("kasi", "camat"),
        ("GET", "/items/{application_id}/audit"): _roles("kasi", "camat"),
        ("POST", "/items/{application_id}/approve"): _roles("kasi"),
        ("POST", "/items/{application_id}/send-back"): _roles("kasi"),
        ("POST", "/items/{application_id}/reject"): _roles("kasi"),
    },
    "biometric": {
        ("GET", "/health"): PUBLIC,
        ("GET", "/queue"): _roles("operator"),
        ("POST", "/queue/{application_id}/capture"): _roles("operator"),
        ("GET", "/devices"): _roles("operator"),
        ("GET", "/adjudication"): _roles("kasi"),
        ("POST", "/adjudication/{case_id}"): _roles("kasi"),
        ("GET", "/records/{record_id}/card-data"): STATION,
    },
    "card_production": {  # the Tempeh station
        ("GET", "/health"): PUBLIC,
        ("POST", "/stock/batches"): _roles("card_operator"),
        ("POST", "/stock/blanks/{serial}/spoil"): _roles("card_operator"),
        ("GET", "/stock"): _roles("card_operator", "camat"),
        ("GET", "/jobs"): _roles("card_operator", "camat"),
        ("GET", "/jobs/{application_id}"): _roles("card_operator", "camat"),
        ("POST", "/jobs/{application_id}/certificate"): _roles("card_operator"),
        ("GET", "/jobs/{application_id}/certificate.pdf"): _roles("card_operator", "camat"),
        ("POST", "/cards/{application_id}/activate"): _roles("card_operator"),
        ("GET", "/escalations"): _roles("card_operator", "kasi", "camat"),
    },
    "notification": {
        ("GET", "/health"): PUBLIC,
        ("POST", "/contacts/{application_id}/opt-out"): _roles("desk", "caller"),
        ("GET", "/messages"): _roles("caller", "desk", "camat"),
        ("GET", "/calls"): _roles("caller"),
        ("POST", "/calls/{call_id}/outcome"): _roles("caller"),
        ("GET", "/desk-list"): _roles("desk", "caller"),
        ("GET", "/desk-flags"): _roles("desk", "caller"),
        ("GET", "/schedule"): _roles("caller", "desk", "camat"),
        ("GET", "/sla"): _roles("camat", "kasi"),
    },
    "service_quality": {
        ("GET", "/health"): PUBLIC,
        ("GET", "/pengaduan"): PUBLIC,
        ("POST", "/pengaduan"): PUBLIC,
        ("GET", "/survey/{token}"): PUBLIC,
        ("POST", "/survey/{token}"): PUBLIC,
        ("POST", "/offices/{kecamatan}/complaints"): COMPLAINTS,
        ("GET", "/offices/{kecamatan}/complaints"): COMPLAINTS,
        ("GET", "/offices/{kecamatan}/complaints/overdue"): COMPLAINTS,
        ("GET", "/offices/{kecamatan}/complaints/{ticket}"): COMPLAINTS,
        ("POST", "/offices/{kecamatan}/complaints/{ticket}/acknowledge"): COMPLAINTS,
        ("POST", "/offices/{kecamatan}/complaints/{ticket}/follow-up"): COMPLAINTS,
        ("GET", "/reports/monthly"): _roles("camat", "kasi"),
        ("GET", "/reports/today"): _roles("camat", "kasi"),
        ("GET", "/mailbox/inbound"): _roles(),
        ("GET", "/reports/produced"): _roles("camat", "kasi"),
    },
}

_PATH_VALUES = {
    "application_id": "00000000-0000-4000-8000-000000000001",
    "record_id": "00000000-0000-4000-8000-000000000002",
    "tracking_number": "TPH-0000-0001",
    "case_id": "case-1",
    "serial": "S1",
    "call_id": "1",
    "ticket": "ADU-350805-2026-0001",
    "token": "abcdefgh12",
    "kecamatan": TEMPEH,
}


def _apps() -> dict[str, Callable[[], FastAPI]]:
    """Each stage's app as it serves it; nothing here reaches its runtime (see the docstring)."""
    runtime: Any = SimpleNamespace(health=Health("routes"), pool=None)
    quality = ServiceQualitySettings()
    return {
        "intake": lambda: intake_app(runtime, IntakeSettings()),
        "validation": lambda: validation_app(runtime, ValidationSettings()),
        "biometric": lambda: biometric_app(runtime, SimpleNamespace()),  # type: ignore[arg-type]
        "card_production": lambda: station_app(runtime, SimpleNamespace(kecamatan=TEMPEH)),  # type: ignore[arg-type]
        "notification": lambda: notification_app(
            runtime,
            NotificationSettings(),
            SimpleNamespace(),
            sla_counts=None,
            wake_scheduler=print,
        ),
        "service_quality": lambda: quality_app(runtime, SimpleNamespace(settings=quality)),  # type: ignore[arg-type]
    }


def _operations(app: FastAPI) -> set[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def _names_kecamatan(app: FastAPI, method: str, path: str) -> bool:
    op = app.openapi()["paths"][path][method.lower()]
    return any(p["name"] == "kecamatan" for p in op.get("parameters", []))


def _wrong_role(allowed: frozenset[str]) -> str:
    if allowed == STATION:
        return staff("operator")
    return staff(next(r for r in ROLES if r not in allowed))


@pytest.fixture
async def tokens(oidc_env: str) -> AsyncIterator[dict[str, str]]:
    issuer = oidc_env
    good = staff_token(issuer, "desk.tempeh")
    head, body, signature = good.split(".")
    yield {
        "tampered": f"{head}.{body}x.{signature}",
        "other_audience": machine_token(issuer, "test-other-audience"),
        "short_lived": machine_token(issuer, "test-short-lived"),
    }


@pytest.mark.parametrize("stage", sorted(ROUTES))
async def test_every_route_checks_the_token(
    stage: str, tokens: dict[str, str], oidc_env: str
) -> None:
    issuer = oidc_env
    app = _apps()[stage]()
    expected = ROUTES[stage]
    served = _operations(app)
    assert served - set(expected) == set(), f"{stage}: routes without an expected role set"
    assert set(expected) - served == set(), f"{stage}: expected routes not served"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stage") as http:

        async def call(method: str, path: str, token: str | None) -> httpx.Response:
            url = path.format(**_PATH_VALUES)
            headers = bearer(token) if token else {}
            params = {"kecamatan": TEMPEH, "month": "2026-01", "since": "2026-01-01"}  # the reports
            return await http.request(method, url, headers=headers, params=params)

        for (method, path), allowed in sorted(expected.items()):
            if allowed == PUBLIC:
                continue
            what = f"{stage} {method} {path}"
            assert (await call(method, path, None)).status_code == 401, what
            for bad in ("tampered", "other_audience"):
                assert (await call(method, path, tokens[bad])).status_code == 401, (what, bad)
            wrong = await call(method, path, staff_token(issuer, _wrong_role(allowed)))
            assert wrong.status_code == 403, (what, wrong.text)
            if allowed != STATION and (
                _names_kecamatan(app, method, path) or stage == "card_production"
            ):
                role = sorted(allowed)[0]
                other = await call(method, path, staff_token(issuer, staff(role, KUNIR)))
                assert other.status_code == 403, (what, other.text)
                assert set(other.json()) == {"detail"}, (what, other.text)

        # An expired token (the short-lived test client's: 5 s) is refused like no token.
        method, path = next(k for k, v in sorted(expected.items()) if v != PUBLIC)

        async def expired() -> bool:
            return (await call(method, path, tokens["short_lived"])).status_code == 401

        assert await wait_for(expired, timeout=30, what="the short-lived token to expire")


async def test_cross_kecamatan_read(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, oidc_env: str
) -> None:
    """A Tempeh application end to end on the real intake stage: Kunir's desk gets exactly the
    answer of a missing application (no name, no NIK, no tracking number); the district admin
    reads it; the public status page shows the state and dates only."""
    settings = settings_for(kafka_bootstrap, pg_dsn, db_schema, topic_prefix)
    async with running(settings, oidc_env) as desk:
        receipt = await _submitted(desk)
        app_id, tracking = receipt["application_id"], receipt["tracking_number"]
        mine = await desk.client.get(f"/applications/{app_id}")
        assert mine.status_code == 200
        name = mine.json()["file"]["applicant"]["name"]
        nik = mine.json()["file"]["applicant"]["nik"]

        kunir = desk.bearer("desk.kunir")
        theirs = await desk.client.get(f"/applications/{app_id}", headers=kunir)
        missing = await desk.client.get(f"/applications/{UUID(int=7)}", headers=kunir)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()
        for secret in (name, nik, tracking, app_id):
            assert secret not in theirs.text
        cancel = {"reason": "Pemohon membatalkan"}
        refused = await desk.client.post(
            f"/applications/{app_id}/cancel", json=cancel, headers=kunir
        )
        assert refused.json() == missing.json()
        admin = await desk.client.get(f"/applications/{app_id}", headers=desk.bearer(DISTRICT))
        assert admin.status_code == 200 and admin.json()["kecamatan"] == TEMPEH

        async with httpx.AsyncClient(base_url=str(desk.client.base_url)) as anyone:
            public = await anyone.get(f"/status/{tracking}")
        assert public.status_code == 200
        assert name not in public.text and nik not in public.text


async def _submitted(desk: Desk) -> dict[str, Any]:
    response = await desk.client.post("/applications", json=new_card_file())
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt
