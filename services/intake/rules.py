"""The front desk's pure rules: tracking numbers, upload checks, refusal texts, state labels.

No I/O here: everything is a function of its arguments (unit-tested without Kafka or a database).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.application import ApplicationFile, ApplicationType
from schemas.requirements import REQUIREMENT_LABELS, REQUIREMENTS, Problem, check_file
from schemas.states import ApplicationState

S = ApplicationState

# ---------------------------------------------------------------- tracking numbers

TRACKING_NUMBER = re.compile(r"^\d{6}-\d{8}-\d{4,6}$")


def tracking_number(kecamatan: str, day: date, serial: int) -> str:
    """``350805-20261124-0007``: office, office-local date, the day's serial (from 1)."""
    if serial < 1:
        raise ValueError("the serial starts at 1")
    return f"{kecamatan}-{day:%Y%m%d}-{serial:04d}"


# ---------------------------------------------------------------- uploads

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
ALLOWED_TYPES = (PDF, JPEG, PNG)
_MAGIC = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}


def sniff_type(data: bytes) -> str | None:
    """The content type the bytes really are (by their signature), if allowed."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def normalize_content_type(declared: str | None) -> str | None:
    if not declared:
        return None
    base = declared.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


@dataclass(frozen=True)
class UploadRefusal:
    """Why an upload was refused: an HTTP status, a code and texts (id/en)."""

    status: int
    code: str
    message_id: str
    message_en: str


def _too_large(max_bytes: int) -> UploadRefusal:
    limit = f"{max_bytes / (1024 * 1024):g} MB"
    return UploadRefusal(
        413,
        "upload_too_large",
        f"Berkas melebihi batas {limit}",
        f"the file exceeds the {limit} limit",
    )


def check_upload(
    data: bytes, declared: str | None, *, max_bytes: int, allowed: tuple[str, ...] = ALLOWED_TYPES
) -> str | UploadRefusal:
    """The accepted content type, or why the upload is refused."""
    if len(data) > max_bytes:
        return _too_large(max_bytes)
    if not data:
        return UploadRefusal(422, "upload_empty", "Berkas kosong", "the file is empty")
    kind = sniff_type(data)
    names = ", ".join(t.split("/")[1].upper() for t in allowed)
    if kind is None or kind not in allowed:
        return UploadRefusal(
            415,
            "upload_type_unsupported",
            f"Jenis berkas tidak didukung (hanya {names})",
            f"unsupported file type (only {names})",
        )
    declared_type = normalize_content_type(declared)
    if declared_type not in (None, "application/octet-stream") and declared_type != kind:
        return UploadRefusal(
            415,
            "upload_type_mismatch",
            "Jenis berkas tidak sesuai dengan isinya",
            "the declared file type does not match its content",
        )
    return kind


def decode_base64(text: str, *, max_bytes: int) -> bytes | UploadRefusal:
    """Strict base64 (a ``data:...;base64,`` prefix is allowed), bounded before decoding."""
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    text = "".join(text.split())
    if len(text) > (max_bytes + 2) // 3 * 4 + 4:
        return _too_large(max_bytes)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return UploadRefusal(
            422,
            "invalid_base64",
            "Isi berkas bukan base64 yang valid",
            "the content is not valid base64",
        )


# ---------------------------------------------------------------- request checks


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}.{i}" if path else str(i))


def unstorable_text(body: Any) -> list[Problem]:
    """Strings PostgreSQL cannot store (NUL, lone surrogates) or control characters."""
    problems = []
    for path, text in _walk(body, ""):
        if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in text) or any(
            ord(ch) < 32 and ch not in "\t\n\r" for ch in text
        ):
            problems.append(
                Problem(
                    code="invalid_character",
                    path=path,
                    message_id="Isian berisi karakter yang tidak diizinkan",
                    message_en="contains a character that is not allowed",
                )
            )
    return problems


def file_problems(
    file: ApplicationFile, raw: Any, *, has_scan: bool, require_kk_scan: bool, today: date
) -> list[Problem]:
    """Everything wrong with a file handed in, in one go (the desk lists it all at once)."""
    problems = unstorable_text(raw)
    problems += check_file(file, today=today)
    if require_kk_scan and file.documents.kk_photocopy is not None and not has_scan:
        problems.append(
            Problem(
                code="missing_kk_scan",
                path="kk_scan",
                message_id="Pindaian fotokopi Kartu Keluarga belum diunggah",
                message_en="the scan of the KK photocopy has not been uploaded",
            )
        )
    return problems


def checklist(kind: ApplicationType) -> list[dict[str, str]]:
    """The requirement checklist of one application type, as printed on the receipt."""
    return [
        {
            "code": r.value,
            "label_id": REQUIREMENT_LABELS[r][0],
            "label_en": REQUIREMENT_LABELS[r][1],
        }
        for r in REQUIREMENTS[kind]
    ]


# ---------------------------------------------------------------- states

# What the desk can still act on / what ends an application (and frees the NIK).
CLOSING_STATES = frozenset({S.REJECTED, S.COLLECTED, S.CANCELLED})
AT_THE_DESK = frozenset({S.READY_FOR_COLLECTION, S.STORED_UNCOLLECTED, S.ACTIVATED})

# How far along the procedure a state or an event's news is. One stage's events for an
# application arrive in order (one partition), but the desk reads three stages' topics: a
# card can be reported ready before the news that biometrics were skipped (the large chaos
# day, defect 39). News from behind where the desk already is, is late.
_STATE_STEP: Mapping[ApplicationState, int] = {
    S.SUBMITTED: 0, S.ACCEPTED: 0, S.SENT_BACK: 1, S.VALIDATED: 1,
    S.AWAITING_BIOMETRICS: 2, S.BIOMETRICS_RECORDED: 3, S.BIOMETRICS_SKIPPED: 3,
    S.DUPLICATE_SUSPECTED: 4,
}  # fmt: skip
_CARD_STEP = 5  # every card production state: the station's own events keep their order
_EVENT_STEP: Mapping[str, int] = {
    "biometrics.capture_queued": 2, "biometrics.recorded": 3, "biometrics.skipped": 3,
    "biometrics.duplicate_suspected": 4, "biometrics.duplicate_confirmed": 4,
}  # fmt: skip


def is_late(current: ApplicationState, event_type: str) -> bool:
    """True when ``event_type`` reports a step behind ``current`` (it must not move it back)."""
    if event_type.startswith(("card.", "certificate.")):
        step = _CARD_STEP
    else:
        step = _EVENT_STEP.get(event_type, 1)  # the section head's decisions
    return step < _STATE_STEP.get(current, _CARD_STEP)


STATE_LABELS_ID: Mapping[ApplicationState, str] = {
    S.SUBMITTED: "Diajukan",
    S.REFUSED_INCOMPLETE: "Ditolak di loket (berkas tidak lengkap)",
    S.ACCEPTED: "Berkas diterima lengkap",
    S.SENT_BACK: "Dikembalikan untuk perbaikan",
    S.VALIDATED: "Berkas divalidasi",
    S.REJECTED: "Permohonan ditolak",
    S.AWAITING_BIOMETRICS: "Menunggu perekaman biometrik",
    S.BIOMETRICS_RECORDED: "Biometrik terekam",
    S.BIOMETRICS_SKIPPED: "Sudah pernah merekam biometrik",
    S.DUPLICATE_SUSPECTED: "Pemeriksaan data ganda",
    S.QUEUED_FOR_PRINTING: "Antrean cetak",
    S.WAITING_FOR_STOCK: "Menunggu blangko",
    S.TEMPORARY_CERTIFICATE_ISSUED: "Surat keterangan diterbitkan, menunggu blangko",
    S.ENCODED: "Chip telah diisi",
    S.PRINTED: "Kartu telah dicetak",
    S.SPOILED: "Kartu dicetak ulang",
    S.READY_FOR_COLLECTION: "Kartu siap diambil",
    S.STORED_UNCOLLECTED: "Kartu disimpan, belum diambil",
    S.ACTIVATED: "Kartu telah diaktivasi",
    S.COLLECTED: "Kartu telah diambil",
    S.CANCELLED: "Permohonan dibatalkan",
}
