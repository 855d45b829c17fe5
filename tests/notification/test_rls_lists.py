"""The SMS log and the contacts are isolated by PostgreSQL (issue #17): with the API's office
checks switched off, Kunir's staff still read none of Tempeh's messages and cannot reach a
Tempeh contact through the routes' SQL, run as a login role held by row-level security."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.samples import TEMPEH
from services.notification.api import sms
from tests.kit.payloads import phone
from tests.kit.tokens import as_staff
from tests.notification.conftest import Smsc
from tests.notification.service_kit import Harness, accepted, new_app, texts
from tests.security.service_role import service_role_dsn
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the service verifies tokens


@pytest.fixture
async def pg_dsn(components: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stage connects as a role under row-level security (not the suite's superuser)."""
    dsn: str = await service_role_dsn(components.pg_dsn, monkeypatch)
    return dsn


async def test_kunirs_staff_read_no_tempeh_sms_without_the_python_check(
    h: Harness, smsc: Smsc, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, number = new_app(), phone()
    await h.publish(accepted(app, number))
    await wait_for(lambda: texts(smsc, number), what="the file-accepted SMS")
    assert [m["application_id"] for m in await h.messages(kecamatan=TEMPEH)] == [str(app)]

    # Kunir's staff, the API's office checks switched off: only SQL stands between.
    monkeypatch.setattr(sms, "own_office", lambda caller, kecamatan: kecamatan)
    monkeypatch.setattr(sms, "may_see", lambda caller, kecamatan: True)
    kunir = await h.http.get(
        "/messages", params={"kecamatan": TEMPEH}, headers=as_staff("caller.kunir")
    )
    assert kunir.status_code == 200 and kunir.json() == []
    opt_out = await h.http.post(f"/contacts/{app}/opt-out", headers=as_staff("desk.kunir"))
    assert opt_out.status_code == 404
    still = await h.http.post(f"/contacts/{app}/opt-out")  # Tempeh's desk: its own contact
    assert still.status_code == 200
