"""Scans handed in at the desk (KK photocopies, signed receipts): checked before any
transaction, stored with the action that links them, or uploaded alone for a later reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID, uuid4

from services.intake import rules, store
from services.intake.context import Desk
from services.intake.refusals import refusal
from services.runtime.db import Conn, in_scope


@dataclass(frozen=True)
class Scan:
    """A checked file: its bytes and the content type they really are."""

    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def checked(data: bytes, declared: str | None, max_bytes: int, path: str) -> Scan:
    """An allowed file within the size limit, else a refusal naming ``path``."""
    kind = rules.check_upload(data, declared, max_bytes=max_bytes)
    if isinstance(kind, rules.UploadRefusal):
        raise refusal(kind.status, kind.code, path, kind.message_id, kind.message_en)
    return Scan(data, kind)


def inline(text: str | None, declared: str | None, max_bytes: int, path: str) -> Scan | None:
    """Decode and check a base64 file sent inside the JSON body (``None``: none was sent)."""
    if text is None:
        return None
    data = rules.decode_base64(text, max_bytes=max_bytes)
    if isinstance(data, rules.UploadRefusal):
        raise refusal(data.status, data.code, path, data.message_id, data.message_en)
    return checked(data, declared, max_bytes, path)


async def insert(conn: Conn, kecamatan: str, kind: str, scan: Scan) -> UUID:
    new_id = uuid4()
    await store.insert_upload(
        conn,
        id=new_id,
        kecamatan=kecamatan,
        kind=kind,
        content_type=scan.content_type,
        sha256=scan.sha256,
        content=scan.data,
    )
    return new_id


async def link(
    conn: Conn, kecamatan: str, kind: str, upload_id: UUID | None, scan: Scan | None, path: str
) -> UUID | None:
    """The upload to link: an earlier one of this office, or the inline file stored now."""
    if upload_id is not None:
        upload = await store.get_upload(conn, upload_id)
        if upload is None or upload.kecamatan != kecamatan:
            raise refusal(
                422,
                "upload_not_found",
                path,
                "Berkas unggahan tidak ditemukan di kecamatan ini",
                "no such upload at this office",
            )
        return upload.id
    if scan is not None:
        return await insert(conn, kecamatan, kind, scan)
    return None


async def upload(
    desk: Desk, kecamatan: str, kind: str, data: bytes, declared: str | None
) -> tuple[UUID, Scan]:
    """A scan uploaded alone (``POST /uploads``), for a later action to link by its id."""
    office = desk.office(kecamatan)
    scan = checked(data, declared, desk.settings.max_upload_bytes, "file")
    async with in_scope(desk.runtime.pool, office.code) as conn:  # the office it is for
        return await insert(conn, office.code, kind, scan), scan
