"""E-mail channel: a mail sent over SMTP to the office becomes a ticket; replies go back."""

from __future__ import annotations

from pathlib import Path

import aiosmtplib
import pytest

from simulators.mail import delivered, send_complaint
from tests.service_quality.kit import TEMPEH_MAILBOX, running
from tests.waiting import wait_for


async def test_mail_over_smtp_becomes_a_ticket_and_the_replies_are_delivered(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path) as sq:
        await send_complaint(
            "127.0.0.1", sq.smtp_port, "budi@example.id", TEMPEH_MAILBOX,
            "Antrean terlalu lama", "Saya menunggu empat jam di kecamatan.",
        )  # fmt: skip
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):  # not an office's mailbox
            await send_complaint(
                "127.0.0.1", sq.smtp_port, "budi@example.id", "nobody@lumajangkab.go.id", "x", "y"
            )
        http = sq.served.http
        queue = await wait_for(lambda: _queue(http), what="the complaint from the mail")
        assert len(queue) == 1
        row = queue[0]
        assert row["channel"] == "email" and row["email"] == "budi@example.id"
        assert row["subject"] == "Antrean terlalu lama"
        ticket = row["ticket"]
        ack = await wait_for(lambda: _to(sq.relay_log, "budi@example.id"), what="the reply")
        assert ticket in ack[0]["subject"] and ticket in ack[0]["body"]
        assert ack[0]["from"] == TEMPEH_MAILBOX
        done = await http.post(
            f"/offices/350805/complaints/{ticket}/follow-up",
            json={"officer_id": "kasi.tempeh", "outcome": "Loket kedua dibuka mulai Senin."},
        )
        assert done.status_code == 200
        replies = await wait_for(
            lambda: [m for m in _to(sq.relay_log, "budi@example.id") if "Tindak" in m["subject"]],
            what="the outcome e-mail",
        )
        assert "Loket kedua dibuka" in replies[0]["body"]
        mail = (await http.get(f"/offices/350805/complaints/{ticket}")).json()["mail"]
        assert [m["status"] for m in mail] == ["sent", "sent"]


async def _queue(http: object) -> list[dict[str, object]]:
    response = await http.get("/offices/350805/complaints")  # type: ignore[attr-defined]
    rows: list[dict[str, object]] = response.json()
    return rows


def _to(log: Path, address: str) -> list[dict[str, object]]:
    return [m for m in delivered(log) if address in m["to"]]  # type: ignore[operator]
