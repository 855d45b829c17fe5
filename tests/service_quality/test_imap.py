"""E-mail channel in production: the office mailbox polled over IMAP, against a real IMAP server
(pymap, its in-memory backend, as its own process on a free port)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aioimaplib
import pytest
import pytest_asyncio

from services.runtime import db
from services.service_quality import store
from simulators.mail import delivered
from tests.service_quality.kit import TEMPEH_MAILBOX, running
from tests.waiting import wait_for

USER, PASSWORD = "pengaduan@lumajangkab.go.id", "rahasia-1"
FILED, SET_ASIDE = "Pengaduan-Tercatat", "Pengaduan-Ditolak"


@pytest.fixture(scope="module")
def imap_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    pymap = str(Path(sys.executable).parent / "pymap")  # installed beside the interpreter
    server = subprocess.Popen(
        [pymap, "--host", "127.0.0.1", "--port", str(port), "--no-service", "admin",
         "dict", "--demo-user", USER, "--demo-password", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield port
    finally:
        server.terminate()
        server.wait(10)


@pytest_asyncio.fixture
async def office_imap(imap_port: int) -> AsyncIterator[aioimaplib.IMAP4]:
    """The test's own session: what a mail server's delivery and a clerk's client would do."""

    async def connected() -> aioimaplib.IMAP4 | None:
        try:
            client = aioimaplib.IMAP4("127.0.0.1", imap_port, timeout=5)
            await client.wait_hello_from_server()
        except OSError:
            return None
        return client

    client = await wait_for(connected, what="the IMAP server")
    assert (await client.login(aioimaplib.quoted(USER), PASSWORD)).result == "OK"
    yield client
    await client.logout()


def _mail(sender: str, subject: str, body: str, *, to: str = TEMPEH_MAILBOX) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{subject.replace(' ', '.')}@example.id>"
    msg.set_content(body)
    return msg.as_bytes()


async def _append(client: aioimaplib.IMAP4, raw: bytes, folder: str = "INBOX") -> tuple[int, int]:
    """APPEND; the (UIDVALIDITY, UID) the server gave the message (UIDPLUS)."""
    answer = await client.append(raw, mailbox=folder)
    assert answer.result == "OK", answer
    found = re.search(rb"APPENDUID (\d+) (\d+)", answer.lines[0])
    assert found is not None
    return int(found.group(1)), int(found.group(2))


async def _uids(client: aioimaplib.IMAP4, folder: str) -> list[int]:
    assert (await client.select(aioimaplib.quoted(folder))).result == "OK"
    found = await client.uid_search("ALL", charset=None)
    return [int(u) for u in found.lines[0].split()]


async def test_the_office_mailbox_polled_over_imap_files_each_mail_once(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    imap_port: int,
    office_imap: aioimaplib.IMAP4,
) -> None:
    secret = tmp_path / "imap-password"
    secret.write_text(PASSWORD + "\n")
    imap = {
        "imap_url": f"imap://{USER.replace('@', '%40')}@127.0.0.1:{imap_port}/INBOX",
        "imap_password_file": str(secret),
        "imap_poll_s": 0.2,
    }
    unknown_charset = (
        b"From: sari@example.id\r\nTo: " + TEMPEH_MAILBOX.encode() + b"\r\nSubject: rusak\r\n"
        b'Content-Type: text/plain; charset="x-no-such-charset"\r\n\r\nbody\r\n'
    )
    await _append(office_imap, _mail("budi@example.id", "Antrean lama", "Empat jam menunggu."))
    await _append(office_imap, unknown_charset)
    await _append(office_imap, _mail("ani@example.id", "Lampiran", "x" * 1_100_000))
    await _append(office_imap, _mail("dewi@example.id", "Petugas ramah", "Terima kasih."))

    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path, **imap) as sq:
        http = sq.served.http

        async def taken() -> list[dict[str, object]] | None:
            rows: list[dict[str, object]] = (await http.get("/mailbox/inbound")).json()
            return rows if len(rows) == 4 else None

        log = await wait_for(taken, what="four messages taken")
        assert [r["outcome"] for r in log] == ["filed", "set_aside", "set_aside", "filed"]
        assert "unreadable" in str(log[1]["error"]) and "too big" in str(log[2]["error"])
        queue = (await http.get("/offices/350805/complaints")).json()
        assert sorted(c["subject"] for c in queue) == ["Antrean lama", "Petugas ramah"]
        assert {c["channel"] for c in queue} == {"email"}
        budi = next(c for c in queue if c["email"] == "budi@example.id")
        ack = await wait_for(lambda: _to(sq.relay_log, "budi@example.id"), what="the reply")
        assert budi["ticket"] in ack[0]["subject"] and ack[0]["from"] == TEMPEH_MAILBOX
        await wait_for(lambda: _inbox_empty(office_imap), what="the inbox emptied")
        assert len(await _uids(office_imap, FILED)) == 2
        assert len(await _uids(office_imap, SET_ASIDE)) == 2  # kept for the office to read

    # While the stage is down: a crash between a commit and the move out of the inbox leaves
    # the message in the inbox with its row; the same mail comes back under another UID (a
    # clerk copies it back); and a new mail arrives.
    crashed = await _append(office_imap, _mail("eko@example.id", "Parkir", "Tidak ada parkir."))
    conn = await db.connect(pg_dsn, db_schema)
    try:
        box = f"{USER}@127.0.0.1/INBOX"
        row = {"mailbox": box, "uidvalidity": crashed[0], "uid": crashed[1], "size": 1}
        assert (
            await store.take_inbound(conn, row | {"outcome": "filed"}, datetime.now(UTC))
            is not None
        )
    finally:
        await conn.close()
    await _append(office_imap, _mail("budi@example.id", "Antrean lama", "Empat jam menunggu."))
    await _append(office_imap, _mail("fajar@example.id", "Loket tutup", "Tutup jam sebelas."))

    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path, **imap) as sq:
        http = sq.served.http
        await wait_for(lambda: _inbox_empty(office_imap), what="the inbox emptied")
        log = (await http.get("/mailbox/inbound")).json()
        assert [r["outcome"] for r in log[5:]] == ["duplicate", "filed"]
        queue = (await http.get("/offices/350805/complaints")).json()
        assert sorted(c["subject"] for c in queue) == [
            "Antrean lama",
            "Loket tutup",
            "Petugas ramah",
        ]
        await wait_for(lambda: _to(sq.relay_log, "fajar@example.id"), what="the third reply")
        assert len(_to(sq.relay_log, "budi@example.id")) == 1  # acknowledged once
        assert len(await _uids(office_imap, FILED)) == 5


async def _inbox_empty(client: aioimaplib.IMAP4) -> bool:
    return await _uids(client, "INBOX") == []


def _to(log: Path, address: str) -> list[dict[str, object]]:
    return [m for m in delivered(log) if address in m["to"]]  # type: ignore[operator]
