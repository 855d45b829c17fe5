"""The desk's files are isolated by PostgreSQL (issue #17): with the API's office check switched
off, Kunir's desk still cannot read or cancel a Tempeh application through the routes' SQL (run
as a login role held by row-level security); one active application per NIK still holds across
offices, and its refusal names another office's application by its office only."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake import context
from services.intake.api import guard
from tests.intake.kit import Desk, new_card_file
from tests.kit.tokens import KUNIR
from tests.security.service_role import service_role_dsn


@pytest.fixture
async def pg_dsn(components: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stage connects as a role under row-level security (not the suite's superuser)."""
    dsn: str = await service_role_dsn(components.pg_dsn, monkeypatch)
    return dsn


async def test_kunirs_desk_reaches_no_tempeh_file_without_the_python_check(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await desk.client.post("/applications", json=new_card_file())
    assert first.status_code == 201, first.text
    app_id = first.json()["application_id"]
    kunir = desk.bearer("desk.kunir")

    # Kunir's desk, the API's office check switched off: only SQL stands between.
    monkeypatch.setattr(guard, "may_see", lambda caller, kecamatan: True)
    read = await desk.client.get(f"/applications/{app_id}", headers=kunir)
    assert read.status_code == 404 and "Tempeh" not in read.text
    cancel = await desk.client.post(
        f"/applications/{app_id}/cancel", json={"reason": "x"}, headers=kunir
    )
    assert cancel.status_code == 404
    assert (await desk.client.get(f"/applications/{app_id}")).json()["state"] == "accepted"

    # The NIK is still taken across offices: Kunir's desk cannot open a second application,
    # and learns where the applicant must go, not Tempeh's number, id or the applicant's data.
    again = new_card_file(kecamatan=KUNIR)
    second = await desk.client.post("/applications", json=again, headers=kunir)
    assert second.status_code == 409, second.text
    body = second.json()
    assert body["detail"][0]["code"] == "active_application_exists"
    assert body["kecamatan_name"] == "Tempeh" and "Tempeh" in body["message_en"]
    for secret in (app_id, first.json()["tracking_number"], again["applicant"]["nik"]):
        assert secret not in second.text
    assert again["applicant"]["name"] not in second.text


async def test_the_same_office_is_told_its_application(desk: Desk) -> None:
    first = await desk.client.post("/applications", json=new_card_file())
    assert first.status_code == 201, first.text
    second = await desk.client.post("/applications", json=new_card_file())
    assert second.status_code == 409, second.text
    body = second.json()
    assert body["detail"][0]["code"] == "active_application_exists"
    assert body["application_id"] == first.json()["application_id"]
    assert body["tracking_number"] == first.json()["tracking_number"]


async def test_a_route_that_forgets_the_callers_scope_reads_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await desk.client.post("/applications", json=new_card_file())
    assert first.status_code == 201, first.text
    app_id = first.json()["application_id"]
    assert (await desk.client.get(f"/applications/{app_id}")).status_code == 200

    # The read route's SQL, deliberately unscoped: a plain connection of the HTTP app's pool.
    monkeypatch.setattr(context, "caller_scope", lambda pool, caller: pool.acquire())
    read = await desk.client.get(f"/applications/{app_id}")
    assert read.status_code == 404  # Tempeh's own desk: the API pool's session sees no row
