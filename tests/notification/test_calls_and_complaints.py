"""What notification tells service_quality and complainants: a recorded call outcome becomes a
``call.logged`` event; ``complaint.answered`` becomes the complainant's outcome SMS."""

from __future__ import annotations

from uuid import uuid4

import pytest

from schemas.envelope import Envelope
from schemas.events import ComplaintAnswered
from schemas.samples import TEMPEH
from tests.kit.payloads import phone
from tests.notification.conftest import Smsc
from tests.notification.service_kit import (
    Harness,
    accepted,
    new_app,
    read_events,
    ready,
    texts,
    wib,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the service verifies tokens


async def test_a_recorded_call_outcome_is_published(h: Harness, smsc: Smsc) -> None:
    app, number = new_app(), phone()
    await h.publish(accepted(app, number), ready(app, wib(6, 10)))
    await wait_for(lambda: texts(smsc, number), what="the card-ready SMS")
    await h.tick(wib(7, 10))
    await h.tick(wib(9, 10))
    (call,) = await h.calls()
    h.clock.set(wib(9, 11))
    r = await h.http.post(
        f"/calls/{call['id']}/outcome", json={"outcome": "will_come_on", "come_on": "2025-01-14"}
    )
    assert r.status_code == 200, r.text

    async def logged() -> list[Envelope]:
        return await read_events(h.bootstrap, h.topics.notification_events, "call.logged")

    (event,) = await wait_for(logged, what="call.logged")
    assert (event.application_id, event.kecamatan) == (app, TEMPEH)
    assert event.payload.model_dump(mode="json") == {
        "call_id": call["id"],
        "outcome": "will_come_on",
        "come_on": "2025-01-14",
    }


async def test_an_answered_complaint_is_told_by_sms(h: Harness, smsc: Smsc) -> None:
    number = phone()
    answered = Envelope.new(
        ComplaintAnswered(
            ticket="ADU-350805-20250106-0007",
            phone=number,
            outcome="Antrean rekam kini dibuka pukul 07.30.",
        ),
        application_id=uuid4(),  # the complaint's id
        kecamatan=TEMPEH,
    )
    await h.publish(answered)
    (text,) = await wait_for(lambda: texts(smsc, number), what="the complaint's outcome SMS")
    assert "ADU-350805-20250106-0007" in text
    assert "Antrean rekam kini dibuka pukul 07.30." in text
    assert text.startswith("Yth. Bapak/Ibu")


async def test_a_call_id_beyond_bigint_is_no_call_not_a_server_error(h: Harness) -> None:
    """Found by make chaos's fuzzer: the id overflowed PostgreSQL's bigint, a 500."""
    r = await h.http.post(f"/calls/{2**100}/outcome", json={"outcome": "no_answer"})
    assert r.status_code == 422, r.text
