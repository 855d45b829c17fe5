"""Complaints: the public web form, staff entry, and escalation on the right working day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from schemas.topics import Topics
from services.service_quality import rules, workflow
from services.service_quality.settings import ServiceQualitySettings
from simulators.mail import delivered
from tests.kit.topics import read_events
from tests.service_quality.kit import ManualClock, running, wib
from tests.waiting import wait_for

TEMPEH = "350805"


def test_follow_up_deadline_skips_a_national_holiday() -> None:
    # Thursday 29 May 2025 (Kenaikan Isa Almasih) is a holiday: five working days from Monday
    # 26 May 10:00 end on Tuesday 3 June 10:00, not Monday 2 June.
    calendar = ServiceQualitySettings(collective_leave=[]).calendar()
    due = rules.deadlines(calendar, wib(2025, 5, 26, 10), 1, 5)
    assert due.acknowledge_by == wib(2025, 5, 27, 10)
    assert due.follow_up_by == wib(2025, 6, 3, 10)
    # cuti bersama is configuration: Friday 30 May as leave moves the deadline a day further
    with_leave = ServiceQualitySettings(collective_leave=[date(2025, 5, 30)]).calendar()
    assert rules.deadlines(with_leave, wib(2025, 5, 26, 10), 1, 5).follow_up_by == wib(
        2025, 6, 4, 10
    )


async def test_web_complaint_needs_its_fields_and_returns_a_ticket(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with running(
        kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path, web_complaints_per_minute=3
    ) as sq:
        http = sq.served.http
        assert "<form" in (await http.get("/pengaduan")).text
        missing = await http.post(
            "/pengaduan", data={"kecamatan": TEMPEH, "category": "time", "body": "Lama sekali"}
        )
        assert missing.status_code == 422
        assert ["body", "subject"] in [e["loc"] for e in missing.json()["detail"]]
        ok = await http.post(
            "/pengaduan",
            data={
                "kecamatan": TEMPEH,
                "category": "time",
                "subject": "KTP-el belum jadi",
                "body": "Sudah tiga hari belum jadi.",
                "email": "warga@example.id",
            },
        )
        assert ok.status_code == 201, ok.text
        ticket = ok.json()["ticket"]
        assert ticket.startswith(f"ADU-{TEMPEH}-")
        spam = await http.post(
            "/pengaduan",
            data={"kecamatan": TEMPEH, "category": "other", "subject": "x", "body": "buy",
                  "website": "http://spam.example"},
        )  # fmt: skip
        assert spam.status_code == 400
        form = {"kecamatan": TEMPEH, "category": "other", "subject": "x", "body": "y"}
        assert (await http.post("/pengaduan", data=form)).status_code == 201
        limited = await http.post("/pengaduan", data=form)
        assert limited.status_code == 429  # a fourth well-formed one within the minute
        found = (await http.get(f"/offices/{TEMPEH}/complaints/{ticket}")).json()
        assert found["channel"] == "website" and found["status"] == "acknowledged"
        # the acknowledgement with the ticket number reached the complainant's mailbox
        await wait_for(lambda: any(ticket in m["subject"] for m in _mail(sq.relay_log)))
        # the desk acknowledging it (again, or a resend after a lost answer): nothing changes
        again = await http.post(
            f"/offices/{TEMPEH}/complaints/{ticket}/acknowledge", json={"officer_id": "desk.1"}
        )
        assert again.status_code == 200 and again.json()["status"] == "acknowledged"
        actions = [h["action"] for h in again.json()["history"]]
        assert actions.count("acknowledged") == 1, actions


async def test_a_web_complaint_resent_with_its_key_is_one_complaint(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path) as sq:
        http = sq.served.http
        form = {"kecamatan": TEMPEH, "category": "time", "subject": "Lama", "body": "Belum jadi"}
        key = {"Idempotency-Key": "warga-42-first-try"}
        first = await http.post("/pengaduan", data=form, headers=key)
        again = await http.post("/pengaduan", data=form, headers=key)  # a retry after a timeout
        assert first.status_code == again.status_code == 201, again.text
        assert first.json()["ticket"] == again.json()["ticket"]
        other = await http.post("/pengaduan", data={**form, "body": "Lain"}, headers=key)
        assert other.status_code == 422 and "Idempotency-Key" in other.text
        fresh = await http.post("/pengaduan", data=form)  # no key: a new complaint
        assert fresh.json()["ticket"] != first.json()["ticket"]


async def test_overdue_complaint_escalates_on_the_right_working_day_across_a_holiday(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    clock = ManualClock(wib(2025, 5, 26, 15))
    async with running(
        kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path,
        clock=clock, collective_leave=[], escalation_poll_s=0.05,
    ) as sq:  # fmt: skip
        http = sq.served.http
        made = await http.post(
            f"/offices/{TEMPEH}/complaints",
            json={
                "channel": "suggestion_box",
                "category": "staff",
                "subject": "Petugas tidak ramah",
                "body": "Catatan di kotak saran.",
                "officer_id": "petugas.tempeh.01",
                "received_at": wib(2025, 5, 26, 10).isoformat(),
            },
        )
        assert made.status_code == 201, made.text
        ticket = made.json()["ticket"]
        wrong = await http.post(
            f"/offices/{TEMPEH}/complaints",
            json={"channel": "website", "category": "staff", "subject": "a", "body": "b",
                  "officer_id": "petugas.tempeh.01"},
        )  # fmt: skip
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "channel"]

        async def history() -> list[str]:
            row = (await http.get(f"/offices/{TEMPEH}/complaints/{ticket}")).json()
            return [h["action"] for h in row["history"]]

        async def escalated() -> bool:
            return "escalated" in await history()

        # Monday 2 June, after hours: without the holiday it would be overdue by now. One
        # escalation pass at this time (the job's own step) escalates nothing.
        clock.set(wib(2025, 6, 2, 17))
        ctx = workflow.Context(sq.settings, clock, Topics(topic_prefix))
        async with sq.served.runtime.pool.acquire() as conn, conn.transaction():
            assert await workflow.escalate(conn, ctx) == []
        assert "escalated" not in await history()
        assert (await http.get(f"/offices/{TEMPEH}/complaints/overdue")).json() == []
        # Tuesday 3 June 10:00: five working days have passed
        clock.set(wib(2025, 6, 3, 10))
        await wait_for(escalated, what="the escalation to the camat")
        overdue = (await http.get(f"/offices/{TEMPEH}/complaints/overdue")).json()
        assert [c["ticket"] for c in overdue] == [ticket]
        assert (await history()).count("escalated") == 1
        closed = await http.post(
            f"/offices/{TEMPEH}/complaints/{ticket}/follow-up",
            json={"officer_id": "kasi.tempeh", "outcome": "Petugas telah dibina."},
        )
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        # the same follow-up resent (its answer lost to a restart): answered as the first was,
        # recorded once
        resent = await http.post(
            f"/offices/{TEMPEH}/complaints/{ticket}/follow-up",
            json={"officer_id": "kasi.tempeh", "outcome": "Petugas telah dibina."},
        )
        assert resent.status_code == 200 and resent.json()["status"] == "closed"
        assert (await history()).count("followed_up") == 1
        again = await http.post(
            f"/offices/{TEMPEH}/complaints/{ticket}/follow-up",
            json={"officer_id": "kasi.tempeh", "outcome": "lagi"},
        )
        assert again.status_code == 409


def _mail(log: Path) -> list[dict[str, Any]]:
    return delivered(log)


async def test_a_telephone_complainant_without_e_mail_is_answered_by_sms(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path) as sq:
        http = sq.served.http
        made = await http.post(
            f"/offices/{TEMPEH}/complaints",
            json={"channel": "telephone", "category": "time", "subject": "Antre lama",
                  "body": "Dua jam antre rekam.", "officer_id": "petugas.tempeh.01",
                  "name": "Siti Aminah", "phone": "0812-3456-7890"},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        ticket = made.json()["ticket"]
        outcome = "Loket rekam kedua dibuka mulai Senin. " * 6  # longer than an SMS carries
        closed = await http.post(
            f"/offices/{TEMPEH}/complaints/{ticket}/follow-up",
            json={"officer_id": "kasi.tempeh", "outcome": outcome},
        )
        assert closed.status_code == 200, closed.text
        assert "told_by_sms" in [h["action"] for h in closed.json()["history"]]
        (event,) = await read_events(
            kafka_bootstrap, Topics(topic_prefix).service_quality_events, 1
        )
        assert event.type == "complaint.answered" and event.kecamatan == TEMPEH
        p = event.payload
        assert (p.ticket, p.phone, p.name) == (ticket, "+6281234567890", "Siti Aminah")  # type: ignore[attr-defined]
        assert len(p.outcome) <= 160 and p.outcome.startswith("Loket rekam kedua")  # type: ignore[attr-defined]
