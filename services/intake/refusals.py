"""The desk's refusals: a status and the problems, each naming its field, in Bahasa Indonesia
and English. Raised by ``workflow`` and ``scans``; ``api.errors`` renders them. Refused files
are counted (codes only, no personal data).

They live outside ``api/`` because the workflow raises them and ``api/`` imports the workflow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from schemas.application import ApplicationType
from schemas.regions import Regions
from schemas.requirements import Problem
from schemas.values import InvalidValue, RegionLevel, parse_region_code
from services.intake import rules, store

log = logging.getLogger("tuntas.intake")


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


def wrong_state(code: str, state: str, message_id: str, message_en: str) -> DeskError:
    """409: the application is not in a state this action applies to."""
    return refusal(
        409, code, "application_id", message_id, message_en, where="path", extra={"state": state}
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


def nik_taken(tracking_number: str, application_id: str) -> DeskError:
    return refusal(
        409,
        "active_application_exists",
        "applicant.nik",
        f"NIK ini masih memiliki permohonan aktif dengan nomor {tracking_number}",
        f"this NIK already has an active application: {tracking_number}",
        extra={"tracking_number": tracking_number, "application_id": application_id},
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


async def count(
    pool: asyncpg.Pool,
    kecamatan: str,
    kind: str | None,
    problems: Sequence[Problem],
    officer_id: str | None,
) -> None:
    """Count a refused file; never fails the answer (statistics only)."""
    try:
        async with pool.acquire() as conn:
            await store.record_refusal(
                conn, kecamatan, kind, [p.code for p in problems], officer_id
            )
    except (OSError, asyncpg.PostgresError) as e:
        log.warning("could not record a refusal: %s", e)


async def count_unparsed(
    pool: asyncpg.Pool, regions: Regions, body: Mapping[str, Any], problems: Sequence[Problem]
) -> None:
    """Count a refused file whose request did not even parse, when its office is readable."""
    try:
        code = parse_region_code(body.get("kecamatan"), RegionLevel.KECAMATAN)  # type: ignore[arg-type]
    except InvalidValue:
        return
    if regions.by_code.get(code) is None or not problems:
        return
    kind = body.get("application_type")
    officer = body.get("officer_id")
    await count(
        pool,
        code,
        kind if isinstance(kind, str) and kind in {t.value for t in ApplicationType} else None,
        problems,
        officer
        if isinstance(officer, str) and len(officer) <= 64 and not rules.unstorable_text(officer)
        else None,
    )
