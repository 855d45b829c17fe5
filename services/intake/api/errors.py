"""How refusals are answered: ``{"message_id", "message_en", "detail": [...]}`` where each
problem names its field (FastAPI's ``loc``/``msg``/``type`` plus our ``code`` and texts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse

from schemas.requirements import Problem
from schemas.values import InvalidValue
from services.intake.refusals import DeskError
from services.runtime.commands import Answer


def problem_item(problem: Problem, where: str = "body") -> dict[str, Any]:
    """One problem in the response: FastAPI's ``loc``/``msg``/``type`` plus our code and texts."""
    loc: list[str | int] = [
        where,
        *[int(p) if p.isdigit() else p for p in problem.path.split(".") if p],
    ]
    return {
        "loc": loc,
        "path": problem.path,
        "code": problem.code,
        "type": problem.code,
        "msg": problem.message_en,
        "message_id": problem.message_id,
        "message_en": problem.message_en,
    }


_MESSAGES_ID: Mapping[str, str] = {
    "missing": "Wajib diisi",
    "json_invalid": "JSON tidak valid",
    "json_type": "Harus berupa JSON",
    "model_type": "Harus berupa objek",
    "model_attributes_type": "Harus berupa objek",
    "dict_type": "Harus berupa objek",
    "list_type": "Harus berupa daftar",
    "string_type": "Harus berupa teks",
    "string_pattern_mismatch": "Format tidak valid",
    "string_too_long": "Isian terlalu panjang",
    "string_too_short": "Isian terlalu pendek",
    "int_type": "Harus berupa bilangan bulat",
    "int_parsing": "Harus berupa bilangan bulat",
    "bool_type": "Harus berupa true atau false",
    "bool_parsing": "Harus berupa true atau false",
    "uuid_type": "Harus berupa UUID",
    "uuid_parsing": "Harus berupa UUID",
    "enum": "Pilihan tidak dikenal",
    "literal_error": "Pilihan tidak dikenal",
    "extra_forbidden": "Isian tidak dikenal",
    "date_type": "Tanggal tidak valid",
    "date_parsing": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
    "date_from_datetime_parsing": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
    "date_from_datetime_inexact": "Tanggal tidak valid (gunakan format TTTT-BB-HH)",
}


def problems_from_errors(errors: Sequence[Any]) -> list[tuple[str, Problem]]:
    """FastAPI/pydantic errors as (where, problem): where is body, query, path or header."""
    found = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else "body"
        path = ".".join(loc[1:] if loc and loc[0] == where else loc)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidValue):
            problem = Problem(
                code=cause.code, path=path, message_id=cause.message_id, message_en=cause.message_en
            )
        else:
            kind = str(err.get("type", "value_error"))
            problem = Problem(
                code=kind,
                path=path,
                message_id=_MESSAGES_ID.get(kind, "Isian tidak valid"),
                message_en=str(err.get("msg", "invalid value"))[:300],
            )
        found.append((where, problem))
    return found


def answer(result: Answer) -> JSONResponse:
    """A command's answer; a replay says so in ``Idempotent-Replayed``."""
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


def refused(exc: DeskError) -> JSONResponse:
    body = {
        "message_id": exc.message_id,
        "message_en": exc.message_en,
        "detail": [problem_item(p, exc.where) for p in exc.problems],
        **exc.extra,
    }
    return JSONResponse(body, status_code=exc.status_code)


def invalid(found: Sequence[tuple[str, Problem]]) -> JSONResponse:
    """422 for a request that did not parse, listing every problem found."""
    body: Mapping[str, Any] = {
        "message_id": "Isian tidak lengkap atau tidak valid",
        "message_en": "the request is incomplete or invalid",
        "detail": [problem_item(p, w) for w, p in found],
    }
    return JSONResponse(body, status_code=422)
