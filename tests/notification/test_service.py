"""The running notification stage: real Kafka, PostgreSQL and the local SMSC process."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from schemas.envelope import Envelope
from schemas.events import SurveyInvited
from schemas.samples import TEMPEH
from tests.kit.payloads import phone
from tests.notification.conftest import Smsc, _stop, start_smsc
from tests.notification.service_kit import (
    Harness,
    accepted,
    certificate,
    collected,
    harness,
    new_app,
    read_events,
    ready,
    stored,
    texts,
    wib,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the service verifies tokens


def _ready_texts(smsc: Smsc, number: str) -> list[str]:
    return [t for t in texts(smsc, number) if "sudah jadi. Ambil di" in t]


async def test_card_ready_sends_one_sms_also_after_a_restart(h: Harness, smsc: Smsc) -> None:
    app, number = new_app(), phone()
    ready_event = ready(app, wib(6, 14))
    await h.publish(accepted(app, number), ready_event)
    await wait_for(lambda: _ready_texts(smsc, number), what="the card-ready SMS")
    (text,) = _ready_texts(smsc, number)
    assert "Kantor Kecamatan Tempeh" in text and "Senin-Jumat 08.00-16.00" in text
    assert "TPH-20250106-0001" in text

    async def sent_rows() -> list[dict[str, Any]]:
        rows = await h.messages(application_id=str(app), status="sent")
        return rows if len(rows) == 2 else []

    sent = await wait_for(sent_rows, what="two sent rows")
    assert {m["template"] for m in sent} == {"file_accepted", "card_ready"}

    await h.stop()
    await h.start()
    # The same event delivered again, and a new one to know the service has caught up.
    await h.publish(ready_event, certificate(app, wib(6, 15)))
    await wait_for(
        lambda: any("Surat Keterangan" in t for t in texts(smsc, number)),
        what="the certificate SMS after the restart",
    )
    assert len(_ready_texts(smsc, number)) == 1

    async def own_sent_events() -> list[Envelope]:
        found = await read_events(h.bootstrap, h.topics.notification_events, "notification.sent")
        mine = [e for e in found if e.application_id == app]
        return mine if len(mine) == 3 else []

    events = await wait_for(own_sent_events, what="three notification.sent events")
    assert sorted(e.payload.purpose for e in events) == [  # type: ignore[attr-defined]
        "card_ready",
        "file_accepted",
        "temporary_certificate",
    ]


async def test_reminder_falls_due_after_working_days_and_collection_stops_it(
    h: Harness, smsc: Smsc
) -> None:
    app, number = new_app(), phone()
    await h.publish(accepted(app, number), ready(app, wib(6, 10)))  # Monday 10:00
    await wait_for(lambda: _ready_texts(smsc, number), what="the card-ready SMS")

    assert await h.tick(wib(7, 9, 59)) == 0  # Tuesday 09:59: not yet one working day
    assert await h.tick(wib(7, 10)) == 1  # Tuesday 10:00: the SMS reminder
    await wait_for(
        lambda: any(t.startswith("Pengingat") for t in texts(smsc, number)),
        what="the reminder SMS",
    )
    assert await h.tick(wib(8, 12)) == 0
    assert await h.tick(wib(9, 10)) == 1  # Thursday: 3 working days -> a call
    (call,) = await h.calls()
    assert (call["application_id"], call["phone"]) == (str(app), number)
    assert call["storage_place"] == "Lemari A, rak 3"
    history = [e["what"] for e in call["history"]]
    assert {"card_ready", "card_ready:sent", "reminder_due", "call_due"} <= set(history)

    handed = collected(app, wib(9, 11))
    # service_quality answers a handover with the applicant's one-time survey link
    link = "https://tuntas.lumajangkab.go.id/survey/Xq3v9c2LmT0a"
    await h.publish(handed, handed.caused(SurveyInvited(survey_url=link)))
    await wait_for(
        lambda: any("survei kepuasan" in t and link in t for t in texts(smsc, number)),
        what="the IKM SMS with its link",
    )
    assert await h.calls() == []
    assert await h.tick(wib(31, 12)) == 0  # no reminder after collection, ever
    assert sum(t.startswith("Pengingat") for t in texts(smsc, number)) == 1


async def test_call_outcomes_are_recorded_and_reschedule(h: Harness, smsc: Smsc) -> None:
    app, number = new_app(), phone()
    await h.publish(accepted(app, number), ready(app, wib(6, 10)))
    await wait_for(lambda: _ready_texts(smsc, number), what="the card-ready SMS")
    await h.tick(wib(7, 10))
    await h.tick(wib(9, 10))
    (call,) = await h.calls()

    h.clock.set(wib(9, 11))
    r = await h.http.post(f"/calls/{call['id']}/outcome", json={"outcome": "no_answer"})
    assert r.status_code == 200, r.text
    assert r.json()["next_contact"].startswith("2025-01-10T08:00:00+07:00")
    again = await h.http.post(f"/calls/{call['id']}/outcome", json={"outcome": "reached"})
    assert again.status_code == 409
    assert await h.calls() == []
    assert await h.tick(wib(10, 7, 59)) == 0
    assert await h.tick(wib(10, 8)) == 1  # next working day: call again
    (call2,) = await h.calls()
    assert call2["id"] != call["id"]
    assert "no_answer" in [e["what"] for e in call2["history"]]

    bad = await h.http.post(f"/calls/{call2['id']}/outcome", json={"outcome": "will_come_on"})
    assert bad.status_code == 422
    r = await h.http.post(
        f"/calls/{call2['id']}/outcome",
        json={"outcome": "will_come_on", "come_on": "2025-01-14", "officer_id": "petugas.01"},
    )
    assert r.json()["next_contact"].startswith("2025-01-15T08:00:00+07:00")
    assert await h.tick(wib(14, 15)) == 0
    assert await h.tick(wib(15, 8)) == 1
    (call3,) = await h.calls()

    r = await h.http.post(f"/calls/{call3['id']}/outcome", json={"outcome": "wrong_number"})
    assert r.json()["next_contact"] is None
    flags = (await h.http.get("/desk-flags", params={"kecamatan": "350805"})).json()
    assert [f["application_id"] for f in flags] == [str(app)]
    assert await h.tick(wib(31, 12)) == 0
    assert await h.calls() == []


async def test_opt_out_is_respected(h: Harness, smsc: Smsc) -> None:
    app, number = new_app(), phone()
    await h.publish(accepted(app, number))
    await wait_for(lambda: texts(smsc, number), what="the file-accepted SMS")
    r = await h.http.post(f"/contacts/{app}/opt-out")
    assert r.status_code == 200
    assert (await h.http.post(f"/contacts/{new_app()}/opt-out")).status_code == 404

    await h.publish(ready(app, wib(6, 10)))

    async def skipped() -> list[dict[str, Any]]:
        return [
            m for m in await h.messages(application_id=str(app)) if m["template"] == "card_ready"
        ]

    (row,) = await wait_for(skipped, what="the card-ready row")
    await wait_for(lambda: h.messages(application_id=str(app), status="skipped"), what="skipped")
    assert await h.tick(wib(31, 12)) == 0  # no reminders for an opted-out applicant
    assert len(texts(smsc, number)) == 1
    assert row["template"] == "card_ready"


async def test_without_a_phone_the_card_goes_on_the_desk_list_not_the_call_list(
    h: Harness, smsc: Smsc
) -> None:
    """Issue #23: the call list showed applicants with no number to call."""
    silent, reachable, number = new_app(), new_app(), phone()
    await h.publish(
        accepted(silent, None),
        accepted(reachable, number),
        ready(silent, wib(6, 10), storage="Lemari B, rak 1"),
        ready(reachable, wib(6, 10)),
    )

    async def both_ready_rows() -> list[dict[str, Any]]:
        rows = [m for m in await h.messages(kecamatan=TEMPEH) if m["template"] == "card_ready"]
        return rows if {m["application_id"] for m in rows} == {str(silent), str(reachable)} else []

    await wait_for(both_ready_rows, what="both cards ready")
    assert await h.tick(wib(7, 10)) == 2
    assert await h.tick(wib(9, 10)) == 2  # Thursday: three working days -> a call is due

    async def called() -> list[dict[str, Any]]:
        return await h.calls()

    calls = await wait_for(called, what="the call for the applicant with a phone")
    assert [c["application_id"] for c in calls] == [str(reachable)]
    r = await h.http.get("/desk-list", params={"kecamatan": TEMPEH})
    assert r.status_code == 200, r.text
    (entry,) = r.json()
    assert (entry["application_id"], entry["storage_place"]) == (str(silent), "Lemari B, rak 1")
    assert entry["due_at"] == calls[0]["due_at"]  # the same ageing as the call list
    assert "phone" not in entry

    await h.publish(collected(silent, wib(9, 11)))

    async def desk_list_empty() -> bool:
        r = await h.http.get("/desk-list", params={"kecamatan": TEMPEH})
        return r.json() == []

    await wait_for(desk_list_empty, what="the collected card off the desk list")


async def test_schedule_shows_when_each_open_reminder_falls_due(h: Harness) -> None:
    app = new_app()
    await h.publish(accepted(app, phone()), ready(app, wib(6, 10)))

    async def scheduled() -> list[dict[str, Any]]:
        r = await h.http.get("/schedule", params={"kecamatan": TEMPEH})
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body["reminders"] and [body]

    (body,) = await wait_for(scheduled, what="the reminder on the schedule")
    (reminder,) = body["reminders"]
    assert reminder["application_id"] == str(app)
    assert datetime.fromisoformat(reminder["next_due"]) == wib(7, 10)  # one working day on
    assert reminder["next_channel"] == "sms"
    assert [s["channel"] for s in body["schedule"]["steps"]] == ["sms", "phone_call", "phone_call"]
    assert await h.tick(wib(7, 10)) == 1
    r = await h.http.get("/schedule", params={"kecamatan": TEMPEH})
    (after,) = r.json()["reminders"]
    assert (datetime.fromisoformat(after["next_due"]), after["next_channel"]) == (
        wib(9, 10),  # Thursday: three working days after ready, a call
        "phone_call",
    )


async def test_the_sms_log_pages_by_template_past_a_full_page(h: Harness, smsc: Smsc) -> None:
    """A busy office's log is longer than a page: reading it by template, page after page
    (``after`` = the last id), finds each card-ready SMS once and nothing else."""
    apps = [new_app() for _ in range(3)]
    numbers = [phone() for _ in apps]
    for app, number in zip(apps, numbers, strict=True):
        await h.publish(accepted(app, number), ready(app, wib(6, 10)))
    for number in numbers:
        await wait_for(lambda n=number: _ready_texts(smsc, n), what="each card-ready SMS")

    async def all_pages() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after = 0
        for _ in range(100):  # bounded: a cursor that is ignored would page for ever
            page = await h.messages(
                kecamatan=TEMPEH, template="card_ready", after=str(after), limit="2"
            )
            rows += page
            if len(page) < 2:
                return rows
            after = page[-1]["id"]
        raise AssertionError("the log never came to a short page")

    async def mine_logged() -> list[dict[str, Any]]:
        rows = await all_pages()
        ours = [m for m in rows if m["application_id"] in {str(a) for a in apps}]
        return rows if len(ours) == 3 else []

    rows = await wait_for(mine_logged, what="the three card-ready rows")
    assert {m["template"] for m in rows} == {"card_ready"}
    ids = [m["id"] for m in rows]
    assert ids == sorted(set(ids))  # each row once, oldest first
    r = await h.http.get("/messages", params={"kecamatan": TEMPEH, "template": "no_such"})
    assert r.status_code == 422 and "template" in r.text


async def test_a_card_collected_before_its_ready_event_is_on_record_with_nothing_to_remind(
    h: Harness,
) -> None:
    """Topics are not ordered among each other: under faults, intake's ``card.collected``
    reached notification before the station's ``card.ready_for_collection`` for 3 cards of
    the large chaos day, which then had no record at all in notification's reminders."""
    app = new_app()
    await h.publish(accepted(app, phone()), collected(app, wib(6, 11)))

    async def row(sql: str) -> Any:
        async with h.runtime.pool.acquire() as conn:
            return await conn.fetchval(sql, str(app))

    await wait_for(
        lambda: row("SELECT count(*) FROM contact_log WHERE application_id = $1"
                    " AND what = 'collected'"),
        what="the collection seen first",
    )  # fmt: skip
    await h.publish(ready(app, wib(6, 10)))
    state = await wait_for(
        lambda: row("SELECT state FROM reminders WHERE application_id = $1"),
        what="the card on record",
    )
    assert state == "collected"
    assert await row("SELECT next_due FROM reminders WHERE application_id = $1") is None
    assert await h.tick(wib(31, 12)) == 0  # nothing to remind, ever


async def test_the_desks_storage_place_holds_whichever_event_arrives_first(h: Harness) -> None:
    """The desk's ``card.stored_uncollected`` (intake's topic) can reach notification before
    the station's ``card.ready_for_collection``; the place the desk gave is where the card
    is, and the ready event's older place must not replace it."""
    first, second = new_app(), new_app()
    await h.publish(accepted(first, phone()), accepted(second, phone()))
    await h.publish(stored(first, wib(8, 9), "Gudang, map 12"))

    async def value(sql: str, app: UUID) -> Any:
        async with h.runtime.pool.acquire() as conn:
            return await conn.fetchval(sql, str(app))

    await wait_for(
        lambda: value("SELECT count(*) FROM contact_log WHERE application_id = $1"
                      " AND what = 'stored'", first),
        what="the desk's storage seen first",
    )  # fmt: skip
    await h.publish(ready(first, wib(6, 10), "Lemari A, rak 3"))
    await h.publish(ready(second, wib(6, 10), "Lemari A, rak 3"))
    place = "SELECT storage_place FROM reminders WHERE application_id = $1"
    assert await wait_for(lambda: value(place, first), what="the card on record") == (
        "Gudang, map 12"
    )
    await wait_for(lambda: value(place, second), what="the second card on record")
    await h.publish(stored(second, wib(8, 9), "Gudang, map 13"))  # the usual order
    await wait_for(
        lambda: value(place + " AND storage_place = 'Gudang, map 13'", second),
        what="the second card's place moved to storage",
    )


async def test_an_sms_its_sender_died_submitting_is_not_sent_again(h: Harness, smsc: Smsc) -> None:
    """The SMSC took the SMS, then its sender was killed before it marked the row: the large
    chaos day sent 12 SMS twice that way, once the row's lease ran out. A row found with its
    submit begun but not marked now fails as "outcome unknown", for staff to confirm."""
    app, number = new_app(), phone()
    await h.publish(accepted(app, number), ready(app, wib(6, 14)))
    await wait_for(lambda: _ready_texts(smsc, number), what="the card-ready SMS")

    async def sent_row() -> Any:
        rows = await h.messages(application_id=str(app), template="card_ready", status="sent")
        return rows[0] if rows else None

    row = await wait_for(sent_row, what="the card-ready row marked sent")
    async with h.runtime.pool.acquire() as conn:  # as the killed sender left it
        await conn.execute(
            "UPDATE sms_outbox SET status = 'pending', submitting_since = now(),"
            " lease_until = NULL, next_attempt_at = now() WHERE id = $1",
            row["id"],
        )

    async def failed() -> Any:
        rows = await h.messages(application_id=str(app), template="card_ready", status="failed")
        return rows[0] if rows else None

    settled = await wait_for(failed, what="the row settled as outcome unknown")
    assert settled["last_error"].startswith("outcome unknown")
    assert len(_ready_texts(smsc, number)) == 1  # the SMSC got it once


async def test_an_sms_tried_while_the_smsc_is_away_is_not_noted_as_submitting(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The large chaos day's attempt 10 failed 28 SMS as "outcome unknown"; 11 of them were
    not on the SMSC's log. The sender noted a submit before it had a session, so a kill while
    it bound (or the SMSC was away) left the note. A try that cannot have reached the SMSC is
    now just tried again."""
    from services.notification import sending

    noted: list[int] = []
    real = sending.store.begin_submit

    async def spy(conn: Any, sms_id: int) -> None:
        noted.append(sms_id)
        await real(conn, sms_id)

    monkeypatch.setattr(sending.store, "begin_submit", spy)
    away = await start_smsc(tmp_path)
    _stop(away)  # nothing listens on its port now
    async with harness(
        kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn, db_schema=db_schema,
        topic_prefix=topic_prefix, smsc=away,
    ) as h:  # fmt: skip
        app, number = new_app(), phone()
        await h.publish(accepted(app, number))

        async def tried() -> Any:
            rows = await h.messages(application_id=str(app), template="file_accepted")
            return rows[0] if rows and rows[0]["attempts"] >= 1 else None

        row = await wait_for(tried, what="the first try, refused by the absent SMSC")
    assert row["status"] == "pending" and "unreachable" in row["last_error"]
    assert noted == []


async def test_the_mark_after_the_smsc_rides_through_a_lost_database(
    h: Harness, smsc: Smsc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went away between the SMSC's answer and the mark (a PostgreSQL stop of
    the large chaos day): the sender restarted and the row was sent again after its lease.
    The mark is now retried instead. The loss is injected at the mark's first attempt."""
    import asyncpg

    from services.notification import sending, workflow

    real = workflow.sms_sent
    lost: list[int] = []

    async def first_lost(*args: Any) -> None:
        if not lost and args[2]["template"] == "card_ready":
            lost.append(1)
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
        await real(*args)

    monkeypatch.setattr(sending.workflow, "sms_sent", first_lost)
    app, number = new_app(), phone()
    await h.publish(accepted(app, number), ready(app, wib(6, 14)))

    async def marked() -> Any:
        rows = await h.messages(application_id=str(app), template="card_ready", status="sent")
        return rows[0] if rows else None

    await wait_for(marked, what="the card-ready row marked sent after the loss")
    assert lost == [1] and len(_ready_texts(smsc, number)) == 1
