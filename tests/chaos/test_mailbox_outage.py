"""A complaint e-mailed while the office mailbox's database is stopped (found by the chaos day:
the mailbox answered ``500`` and the resident's mail was refused for good, aborting the day).
The mailbox now answers ``451`` (temporary: nothing filed, send again later), and the
resident's mail server sends again after a temporary failure, as mail servers do."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from schemas.topics import Topics
from services.runtime import db
from services.service_quality import workflow
from services.service_quality.clock import SystemClock
from services.service_quality.mailbox import OfficeMailbox
from services.service_quality.settings import ServiceQualitySettings
from simulators import mail
from tests.chaos.conftest import stop_immediately
from tests.service_quality.kit import TEMPEH_MAILBOX
from tests.waiting import wait_for
from tuntas.stack.postgres import PostgresNode


def _complaint() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "sari@example.id", TEMPEH_MAILBOX, "Loket tutup"
    msg.set_content("Loket tutup jam sepuluh.")
    return msg.as_bytes()


async def test_the_mailbox_answers_451_while_its_database_is_down(
    own_server: PostgresNode,
) -> None:
    pool = await db.create_pool(own_server.dsn, "public", min_size=1, max_size=2)
    settings = ServiceQualitySettings()
    ctx = workflow.Context(settings, SystemClock(), Topics("t."))
    handler = OfficeMailbox(SimpleNamespace(pool=pool), ctx)  # type: ignore[arg-type]
    envelope = SmtpEnvelope()
    envelope.mail_from = "sari@example.id"
    envelope.rcpt_tos = [TEMPEH_MAILBOX]
    envelope.original_content = envelope.content = _complaint()
    try:
        stop_immediately(own_server)
        await wait_for(lambda: not own_server.is_running(), what="the server stopped")
        answer = await handler.handle_DATA(None, None, envelope)  # type: ignore[arg-type]
        assert answer.startswith("451 "), answer  # raised before (aiosmtpd answered 500)
    finally:
        await pool.close()


class _Busy:
    """An office mailbox that answers 451 twice, then takes the mail."""

    def __init__(self) -> None:
        self.tries = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        return "451 4.3.0 try again later" if self.tries <= 2 else "250 OK"


async def test_the_residents_mail_server_sends_again_after_a_temporary_failure(
    tmp_path: Path,
) -> None:
    busy = _Busy()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(busy), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await mail.send_complaint(
            "127.0.0.1", port, "budi@example.id", TEMPEH_MAILBOX, "Antrean", "Lama sekali."
        )
    finally:
        server.close()
    assert busy.tries == 3  # raised SMTPDataError at the first 451 before
