"""The front desk's HTTP API (steps 1-2 and 7-8): receive a complete file and give a receipt,
correct files sent back, hand cards over against a signed receipt, and the public status lookup.

Every state change and the event it emits are written in one transaction (the outbox); the
relay publishes after commit. Refusals are 4xx with a list of problems, each naming its field
(``loc``/``path``) with a machine code and messages in Bahasa Indonesia and English.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from schemas.requirements import Problem, check_application
from schemas.values import today_in_indonesia
from services.intake import refusals, workflow
from services.intake.api import corrections, desk, errors, figures, handover, public
from services.intake.api.limits import BodyLimit, TooLarge, body_limit, too_large_body
from services.intake.context import Desk
from services.intake.refusals import DeskError
from services.intake.settings import IntakeSettings
from services.runtime import http
from services.runtime.auth import Access
from services.runtime.commands import KeyReused
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.intake")
_FILE_PARTS = ("application_type", "applicant", "documents")


def create_app(runtime: Runtime, settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    context = Desk(runtime, settings)
    access = Access.from_env()
    app = http.app(
        "Tuntas intake — front desk (loket pelayanan KTP-el)",
        (
            "Procedure steps 1-2 and 7-8: receive a complete file and give a receipt (tanda "
            "terima), correct files sent back by the section head, hand over activated cards "
            "against the applicant's signed receipt, and the public status lookup.\n\n"
            "Refusals are 4xx: `detail` lists the problems, each with `loc`/`path` (the field), "
            "`code`, `message_id` (Bahasa Indonesia) and `message_en`."
        ),
        runtime.health,
        [
            desk.routes(context, access),
            corrections.routes(context, access),
            handover.routes(context, access),
            figures.routes(context, access),
            public.routes(context),
        ],
    )
    limit = body_limit(settings)

    @app.exception_handler(DeskError)
    async def _desk_error(request: Request, exc: DeskError) -> JSONResponse:
        return errors.refused(exc)

    @app.exception_handler(KeyReused)
    async def _key_reused(request: Request, exc: KeyReused) -> JSONResponse:
        return errors.refused(refusals.key_reused())

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = errors.problems_from_errors(exc.errors())
        is_file = (request.method == "POST" and request.url.path == "/applications") or (
            request.method == "PUT" and request.url.path.startswith("/applications/")
        )
        if is_file and isinstance(exc.body, dict):
            try:
                found = await _with_file_check(context, request, exc.body, found)
            except Exception:  # the plain errors still name every field: never a 5xx here
                log.exception("requirement check of an invalid request failed")
        return errors.invalid(found)

    @app.exception_handler(TooLarge)
    async def _body_too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return JSONResponse(too_large_body(limit), status_code=413)

    app.add_middleware(BodyLimit, limit=limit)
    return app


async def _with_file_check(
    context: Desk, request: Request, body: Mapping[str, Any], found: list[tuple[str, Problem]]
) -> list[tuple[str, Problem]]:
    """The file itself: report everything the requirement check finds, in one go."""
    kept = [(w, p) for w, p in found if not (w == "body" and p.path.split(".")[0] in _FILE_PARTS)]
    raw = {k: body[k] for k in _FILE_PARTS if k in body}
    kept += [("body", p) for p in check_application(raw, today=today_in_indonesia())]
    if request.method == "POST":  # a new file refused; the caller, if its token passed
        caller = getattr(request.state, "identity", None)
        await workflow.refused_unparsed(context, caller, body, [p for _, p in kept])
    return kept
