"""E-mail in, in production: poll the office mailbox over IMAP (``imap_url``). Each message in
the folder becomes a complaint exactly as on the SMTP path (``mailbox.read_mail`` and
``mailbox.file_mail``), recorded in ``inbound_mail`` in the same transaction, and is moved out
of the folder only after that commit. A crash between the commit and the move leaves the
message in the folder with its row: the next poll only moves it. Mail that cannot become a
complaint gets a set-aside row saying why and is moved to ``imap_set_aside_folder``.

aioimaplib rather than imaplib in a thread: the poll is cancelled with the service at shutdown
(a blocking socket in a worker thread would hold the stop up to its timeout) and runs on the
loop like the stage's other I/O."""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aioimaplib

from services.runtime.oidc_client import secret_from
from services.runtime.service import Runtime
from services.service_quality import store, workflow
from services.service_quality.mailbox import MAX_MAIL_BYTES, UnreadableMail, file_mail, read_mail

log = logging.getLogger("tuntas.service_quality")
BATCH = 50  # messages per poll; a poll that moved some runs again at once
TIMEOUT_S = 30.0


class MailboxRefused(RuntimeError):
    """The server answered NO/BAD to a command the poll cannot go on without."""


@dataclass(frozen=True)
class ImapBox:
    tls: bool
    host: str
    port: int
    user: str
    folder: str

    @property
    def key(self) -> str:
        """How ``inbound_mail`` names the mailbox (no password)."""
        return f"{self.user}@{self.host}/{self.folder}"


def parse_url(url: str) -> ImapBox:
    """``imaps://user@host[:993][/folder]`` (``imap://``: plain, port 143); folder INBOX."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ValueError(f"not an imap[s]://user@host/folder URL: {url!r}")
    tls = parts.scheme == "imaps"
    return ImapBox(
        tls=tls,
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        user=unquote(parts.username),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def _ok(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise MailboxRefused(f"{what}: {response.result} {response.lines}")
    return response


@asynccontextmanager
async def _session(box: ImapBox, password: str) -> AsyncIterator[aioimaplib.IMAP4]:
    client = (
        aioimaplib.IMAP4_SSL(
            box.host, box.port, timeout=TIMEOUT_S, ssl_context=ssl.create_default_context()
        )
        if box.tls
        else aioimaplib.IMAP4(box.host, box.port, timeout=TIMEOUT_S)
    )
    await client.wait_hello_from_server()
    try:
        _ok(await client.login(aioimaplib.quoted(box.user), password), "login")
        await client.protocol.capability()  # some servers widen it only after login
        if "MOVE" not in client.protocol.capabilities:
            raise MailboxRefused("the server has no MOVE (RFC 6851)")
        yield client
    finally:
        with suppress(Exception):  # the connection may be gone already
            await client.logout()


async def poll(runtime: Runtime, ctx: workflow.Context) -> int:
    """One poll of the office mailbox: the number of messages moved out of the folder."""
    settings = ctx.settings
    box = parse_url(settings.imap_url)
    try:
        password = secret_from(settings.imap_password, settings.imap_password_file)
        async with _session(box, password) as client:
            return await _poll(runtime, ctx, client, box)
    except (OSError, TimeoutError, aioimaplib.AioImapException, MailboxRefused) as error:
        log.warning("office mailbox %s: %s", box.key, error)
        return 0


async def _poll(
    runtime: Runtime, ctx: workflow.Context, client: aioimaplib.IMAP4, box: ImapBox
) -> int:
    settings = ctx.settings
    for folder in (settings.imap_filed_folder, settings.imap_set_aside_folder):
        await client.create(aioimaplib.quoted(folder))  # NO when it exists already
    selected = _ok(await client.select(aioimaplib.quoted(box.folder)), "select")
    validity = _code(selected.lines, rb"UIDVALIDITY (\d+)")
    if validity is None:
        raise MailboxRefused("no UIDVALIDITY in the SELECT answer")
    found = _ok(await client.uid_search("ALL", charset=None), "search")
    uids = [int(u) for line in found.lines[:-1] for u in line.split()][:BATCH]
    moved = 0
    for uid in uids:
        async with runtime.pool.acquire() as conn:
            outcome = await store.inbound_outcome(conn, box.key, validity, uid)
        if outcome is None:
            outcome = await _take(runtime, ctx, client, box, validity, uid)
        if outcome is None:  # gone meanwhile, or another replica is taking it
            continue
        folder = (
            settings.imap_set_aside_folder if outcome == "set_aside" else settings.imap_filed_folder
        )
        response = await client.uid("move", str(uid), aioimaplib.quoted(folder))
        if response.result == "OK":
            moved += 1
        else:  # left in the folder: the next poll moves it (its row says it is done)
            log.warning("mail uid %s: move to %s refused: %s", uid, folder, response.lines)
    return moved


async def _take(
    runtime: Runtime,
    ctx: workflow.Context,
    client: aioimaplib.IMAP4,
    box: ImapBox,
    validity: int,
    uid: int,
) -> str | None:
    """File the message's complaint, or set it aside; the outcome, committed."""
    sized = _ok(await client.uid("fetch", str(uid), "(RFC822.SIZE)"), "fetch size")
    size = _code(sized.lines, rb"RFC822\.SIZE (\d+)")
    if size is None:
        return None
    row: store.Row = {"mailbox": box.key, "uidvalidity": validity, "uid": uid, "size": size}
    problem, mail, offices = None, None, []
    if size > MAX_MAIL_BYTES:
        problem = f"too big: {size} bytes (at most {MAX_MAIL_BYTES})"
    else:
        fetched = _ok(await client.uid("fetch", str(uid), "(BODY.PEEK[])"), "fetch")
        raw = next((bytes(line) for line in fetched.lines if isinstance(line, bytearray)), None)
        if raw is None:
            return None
        try:
            mail = read_mail(raw)
        except UnreadableMail as error:
            problem = f"unreadable: {error}"
        else:
            row["message_id"] = mail.message_id
            addresses = ctx.settings.mailboxes
            offices = list(dict.fromkeys(addresses[a] for a in mail.recipients if a in addresses))
            if "@" not in mail.sender:
                problem = "no sender address for the reply"
            elif not offices:
                problem = "no office address among the recipients"
    async with runtime.pool.acquire() as conn, conn.transaction():
        if problem is not None or mail is None:
            row |= {"outcome": "set_aside", "error": problem}
        elif mail.message_id and await store.filed_message(conn, mail.message_id):
            row["outcome"] = "duplicate"
        else:
            row["outcome"] = "filed"
        inbound_id = await store.take_inbound(conn, row, ctx.clock.now())
        if inbound_id is None:
            return None
        if row["outcome"] == "filed" and mail is not None:
            await store.inbound_tickets(conn, inbound_id, await file_mail(conn, ctx, mail, offices))
    if problem is not None:
        log.warning("mail uid %s in %s set aside: %s", uid, box.key, problem)
    return str(row["outcome"])


def _code(lines: list[bytes | bytearray], pattern: bytes) -> int | None:
    """A number from the untagged lines of an answer (literals skipped)."""
    for line in lines:
        if isinstance(line, bytes) and (found := re.search(pattern, line)):
            return int(found.group(1))
    return None
