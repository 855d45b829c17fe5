"""E-mail: the office's mailbox in (an SMTP server for the offices' addresses) and replies out
(through the configured relay). Mail out is written to ``outgoing_mail`` in the transaction that
decided it and delivered here, so a reply is neither lost nor sent for a rolled-back change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session as SmtpSession

from services.runtime import http
from services.runtime.db import Conn
from services.runtime.service import Runtime
from services.service_quality import store, workflow
from services.service_quality.rules import Category, ComplaintChannel

log = logging.getLogger("tuntas.service_quality")
MAX_MAIL_BYTES = 1_000_000
MAX_BODY_CHARS = 5000


@dataclass(frozen=True)
class InboundMail:
    sender: str
    name: str | None
    subject: str
    body: str
    message_id: str | None
    recipients: tuple[str, ...]  # from the headers, lower case (IMAP routes by them)


class UnreadableMail(ValueError):
    """A message whose headers or text cannot be decoded."""


RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")


def read_mail(raw: bytes) -> InboundMail:
    """The complaint in a message: sender, subject and its plain text (HTML as a fallback)."""
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        name, address = parseaddr(str(msg.get("From", "")))
        part = (
            msg.get_body(preferencelist=("plain", "html"))
            if isinstance(msg, EmailMessage)
            else None
        )
        body = part.get_content() if part is not None else ""
        subject = str(msg.get("Subject", "")).strip() or "(tanpa subjek)"
        recipients = getaddresses([str(v) for h in RECIPIENT_HEADERS for v in msg.get_all(h, [])])
        message_id = str(msg.get("Message-ID", "")).strip() or None
    except (LookupError, ValueError, TypeError, UnicodeError, AttributeError) as error:
        # the email package raises these on a broken header, charset or MIME structure
        raise UnreadableMail(f"{type(error).__name__}: {error}") from error
    return InboundMail(
        address, name or None, subject[:200], str(body).strip()[:MAX_BODY_CHARS],
        message_id[:500] if message_id else None,
        tuple(dict.fromkeys(a.lower() for _, a in recipients if a)),
    )  # fmt: skip


async def file_mail(
    conn: Conn, ctx: workflow.Context, mail: InboundMail, offices: Iterable[str]
) -> list[str]:
    """One complaint per office the mail was sent to (the SMTP and IMAP paths both); the
    tickets. The sender gets the acknowledgement by e-mail (``workflow.receive``)."""
    tickets = []
    for kecamatan in offices:
        row = await workflow.receive(
            conn,
            ctx,
            workflow.NewComplaint(
                kecamatan=kecamatan,
                channel=ComplaintChannel.EMAIL,
                category=Category.OTHER,
                subject=mail.subject,
                body=mail.body or mail.subject,
                name=mail.name,
                email=mail.sender,
            ),
            "mailbox",
        )
        log.info("mail to office %s became complaint %s", kecamatan, row["ticket"])
        tickets.append(str(row["ticket"]))
    return tickets


class OfficeMailbox:
    """aiosmtpd handler: mail to an office's address becomes a complaint with a ticket; the
    SMTP transaction is answered after the complaint is committed."""

    def __init__(self, runtime: Runtime, ctx: workflow.Context) -> None:
        self.runtime = runtime
        self.ctx = ctx

    async def handle_RCPT(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: SmtpEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() not in self.ctx.settings.mailboxes:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address.lower())
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            return "554 5.6.0 unreadable message"
        try:
            mail = read_mail(raw)
        except UnreadableMail:
            return "554 5.6.0 unreadable message"
        if "@" not in mail.sender:
            return "550 5.1.7 a sender address is needed for the reply"
        offices = [self.ctx.settings.mailboxes[rcpt] for rcpt in envelope.rcpt_tos]
        try:
            async with self.runtime.pool.acquire() as conn, conn.transaction():
                await file_mail(conn, self.ctx, mail, offices)
        except http.UNAVAILABLE:  # nothing was committed: the sender's server tries again
            return "451 4.3.0 the complaints database is not reachable; try again later"
        return "250 2.0.0 complaint registered"


async def serve_smtp(runtime: Runtime, ctx: workflow.Context) -> None:
    """The office mailbox's SMTP listener until the service stops (port in extra["smtp_port"])."""
    handler = OfficeMailbox(runtime, ctx)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MAIL_BYTES, hostname="tuntas-pengaduan"),
        ctx.settings.smtp_host,
        ctx.settings.smtp_port,
    )
    runtime.extra["smtp_port"] = server.sockets[0].getsockname()[1]
    try:
        await runtime.stop.wait()
    finally:
        server.close()
        with contextlib.suppress(Exception):  # clients mid-session are cut off at shutdown
            await server.wait_closed()


def _message(row: dict[str, Any]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = row["sender"]
    msg["To"] = row["recipient"]
    msg["Subject"] = row["subject"]
    msg.set_content(row["body"])
    return msg


async def deliver(runtime: Runtime, ctx: workflow.Context) -> int:
    """Send the mail due now through the relay; a failure is retried with backoff."""
    settings = ctx.settings
    now = ctx.clock.now()
    async with runtime.pool.acquire() as conn, conn.transaction():
        rows = await store.due_mail(conn, now)
        for row in rows:
            try:
                await aiosmtplib.send(
                    _message(row), hostname=settings.relay_host, port=settings.relay_port,
                    timeout=10,
                )  # fmt: skip
            except (aiosmtplib.SMTPException, OSError) as error:
                attempts = row["attempts"] + 1
                retry = (
                    now + timedelta(seconds=min(30 * 2**attempts, 3600))
                    if attempts < settings.mail_max_attempts
                    else None
                )
                log.warning("mail %s to the relay failed: %s", row["id"], error)
                await store.mail_failed(conn, row["id"], str(error), retry)
                continue
            await store.mail_sent(conn, row["id"], ctx.clock.now())
    return len(rows)
