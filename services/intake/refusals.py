"""The desk's refusals: a status and the problems, each naming its field, in Bahasa Indonesia
and English. Raised by ``workflow`` and ``scans``; ``api.errors`` renders them (the workflow
counts and publishes a refused file: ``workflow.refused``).

They live outside ``api/`` because the workflow raises them and ``api/`` imports the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.regions import Regions
from schemas.requirements import Problem
from services.intake import store


class DeskError(Exception):
    """A refusal: an HTTP status and the problems (``where``: body, path, query or header)."""

    def __init__(
        self,
        status_code: int,
        problems: Sequence[Problem],
        *,
        message_id: str,
        message_en: str,
        where: str = "body",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.status_code = status_code
        self.problems = list(problems)
        self.message_id = message_id
        self.message_en = message_en
        self.where = where
        self.extra = dict(extra or {})


def refusal(
    status_code: int,
    code: str,
    path: str,
    message_id: str,
    message_en: str,
    *,
    where: str = "body",
    extra: Mapping[str, Any] | None = None,
) -> DeskError:
    """A refusal with one problem, whose texts are also the answer's."""
    return DeskError(
        status_code,
        [Problem(code=code, path=path, message_id=message_id, message_en=message_en)],
        message_id=message_id,
        message_en=message_en,
        where=where,
        extra=extra,
    )


# A desk action on an application in a state it does not apply to (409): code, texts id/en.
_WRONG_STATE: Mapping[str, tuple[str, str, str]] = {
    "not_awaiting_correction": (
        "not_awaiting_correction",
        "Permohonan ini tidak sedang menunggu perbaikan",
        "this application is not waiting for a correction (state {state})",
    ),
    "not_cancellable": (
        "not_cancellable",
        "Permohonan tidak dapat dibatalkan pada tahap ini",
        "the application cannot be cancelled in state {state}",
    ),
    "not_ready_for_collection": (
        "not_ready_for_collection",
        "Kartu tidak dalam status siap diambil",
        "the card is not waiting for collection (state {state})",
    ),
    "already_collected": (
        "already_collected",
        "Kartu sudah diserahkan kepada pemohon",
        "the card has already been handed over",
    ),
    "not_activated": (
        "card_not_activated",
        "Kartu belum diaktivasi; aktivasi dengan sidik jari pemohon dahulu",
        "the card is not activated yet",
    ),
    "not_at_the_desk": (
        "card_not_activated",
        "Kartu belum tersedia di loket",
        "the card is not at the desk",
    ),
}


def wrong_state(why: str, state: str) -> DeskError:
    """409: the application's ``state`` is not one the action applies to (``why``: the table)."""
    code, message_id, message_en = _WRONG_STATE[why]
    return refusal(
        409,
        code,
        "application_id",
        message_id,
        message_en.format(state=state),
        where="path",
        extra={"state": state},
    )


def not_found() -> DeskError:
    return refusal(
        404,
        "application_not_found",
        "application_id",
        "Permohonan tidak ditemukan",
        "no such application",
        where="path",
    )


def nik_taken(taken: store.Application, here: str | None, regions: Regions) -> DeskError:
    """409: the NIK has an active application. At ``here`` (the office acting) it is named, the
    desk needs it; at another office only that office is said (the applicant must go there):
    its number and id are not this desk's to see."""
    if taken.kecamatan == here:
        number = taken.tracking_number
        return refusal(
            409,
            "active_application_exists",
            "applicant.nik",
            f"NIK ini masih memiliki permohonan aktif dengan nomor {number}",
            f"this NIK already has an active application: {number}",
            extra={"tracking_number": number, "application_id": str(taken.id)},
        )
    office = regions.by_code.get(taken.kecamatan)
    name = office.name if office is not None else taken.kecamatan
    return refusal(
        409,
        "active_application_exists",
        "applicant.nik",
        f"NIK ini masih memiliki permohonan aktif di Kecamatan {name}; pemohon mengurusnya di sana",
        f"this NIK has an active application at another kecamatan: {name}",
        extra={"kecamatan": taken.kecamatan, "kecamatan_name": name},
    )


def incomplete(problems: Sequence[Problem]) -> DeskError:
    return DeskError(
        422,
        problems,
        message_id="Berkas tidak lengkap atau tidak sesuai; permohonan tidak diterima",
        message_en="the file is incomplete or wrong; the application was not accepted",
    )


def key_reused() -> DeskError:
    return refusal(
        422,
        "idempotency_key_reused",
        "Idempotency-Key",
        "Idempotency-Key sudah dipakai untuk permintaan lain",
        "this Idempotency-Key was used for a different request",
        where="header",
    )
