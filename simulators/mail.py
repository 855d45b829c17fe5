"""The outside world's e-mail: ``python -m simulators.mail --port P --log F`` is the relay the
office's replies go to (every message delivered is appended to F as one JSON line: the
complainants' mailboxes), and :func:`send_complaint` is a resident writing to the office's
address over SMTP."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session as SmtpSession

RETRY_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0)  # then the sender gives up


class Mailboxes:
    """Accepts mail for anyone and writes it to the log."""

    def __init__(self, log: Path) -> None:
        self.log = log

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or envelope.content
        msg = BytesParser(policy=policy.default).parsebytes(raw if isinstance(raw, bytes) else b"")
        body = msg.get_body(preferencelist=("plain",)) if isinstance(msg, EmailMessage) else None
        record = {
            "at": datetime.now(UTC).isoformat(),
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(msg.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
        }
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


async def start(host: str, port: int, log: Path) -> asyncio.Server:
    """The relay on ``host:port`` (0: a free port) in the running loop."""
    handler = Mailboxes(log)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: SMTP(handler, hostname="mail.example"), host, port)


def delivered(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


async def send_complaint(
    host: str, port: int, sender: str, office: str, subject: str, body: str
) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = office
    msg["Subject"] = subject
    msg.set_content(body)
    # As a resident's mail server does: a temporary failure (4xx, no answer) is retried later.
    for wait in (*RETRY_S, None):
        try:
            await aiosmtplib.send(msg, hostname=host, port=port, timeout=10)
            return
        except (aiosmtplib.SMTPResponseException, OSError) as error:
            code = getattr(error, "code", 0)
            if wait is None or 500 <= code < 600:
                raise
            await asyncio.sleep(wait)


async def _serve(host: str, port: int, log: Path) -> None:
    server = await start(host, port, log)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2526)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.host, args.port, args.log))


if __name__ == "__main__":
    main()
