"""The adjudicating officer: open duplicate cases and their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from schemas.values import mask_nik
from services.biometric import store, workflow
from services.biometric.api.models import CaseItem, DecisionBody, KecamatanQuery, own_kecamatan
from services.biometric.workflow import ConflictError, NotFoundError, Stage
from services.runtime.auth import Access, Identity, may_see
from services.runtime.db import caller_scope
from services.runtime.service import Runtime


def router(runtime: Runtime, stage: Stage, access: Access) -> APIRouter:
    routes = APIRouter()
    adjudicator = access.staff("kasi")

    @routes.get("/adjudication", response_model=list[CaseItem], summary="open duplicate cases")
    async def get_adjudication(
        *, caller: Identity = adjudicator, kecamatan: KecamatanQuery
    ) -> list[CaseItem]:
        code = own_kecamatan(caller, kecamatan)
        out: list[CaseItem] = []
        async with caller_scope(runtime.pool, caller) as conn:
            for case in await store.open_cases(conn, code):
                app_row = await store.get_application(conn, case.application_id)
                assert app_row is not None
                out.append(
                    CaseItem(
                        case_id=case.case_id,
                        application_id=case.application_id,
                        tracking_number=app_row.tracking_number,
                        name=app_row.validated.applicant.name,
                        nik_masked=mask_nik(app_row.nik),
                        record_id=case.record_id,
                        candidates=list(case.candidates),
                        opened_at=case.opened_at,
                    )
                )
        return out

    @routes.post(
        "/adjudication/{case_id}",
        summary="decide a suspected duplicate: clear (print) or confirm (the application ends)",
        responses={404: {"description": "unknown case"}, 409: {"description": "decided"}},
    )
    async def post_adjudication(
        *,
        caller: Identity = adjudicator,
        case_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")],
        body: DecisionBody,
    ) -> dict[str, str]:
        async with caller_scope(runtime.pool, caller) as conn:
            case = await store.get_case(conn, case_id)
            app = await store.get_application(conn, case.application_id) if case else None
        if app is None or not may_see(caller, app.kecamatan):
            # Not in the caller's scope: the decision (in the service's scope, where it reads
            # the candidates of every office) is never taken.
            raise HTTPException(404, f"unknown case {case_id}")
        try:
            state = await workflow.adjudicate(
                runtime, stage, case_id, body.decision, caller.username, body.note
            )
        except NotFoundError as error:
            raise HTTPException(404, str(error)) from None
        except ConflictError as error:
            raise HTTPException(409, str(error)) from None
        return {"case_id": case_id, "decision": body.decision.value, "state": state.value}

    return routes
