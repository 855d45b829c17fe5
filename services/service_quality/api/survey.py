"""The public IKM survey page behind each one-time link: open, no login, one answer per link."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from services.runtime.service import Runtime
from services.service_quality import ikm, workflow
from services.service_quality.api.models import SurveyAnswer

Token = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


def _choices(name: str, values: list[str]) -> str:
    return "".join(
        f'<label><input type="radio" name="{name}" value="{escape(v)}" required>'
        f"{escape(v)}</label> "
        for v in values
    )


def page(token: str) -> str:
    rows = "".join(
        f"<p>{code.upper()} {escape(name)}: {_choices(code.lower(), ['1', '2', '3', '4'])}</p>"
        for code, name in ikm.ELEMENTS
    )
    return (
        '<!doctype html><html lang="id"><meta charset="utf-8"><title>Survei IKM</title>'
        "<h1>Survei Kepuasan Masyarakat</h1>"
        f'<form method="post" action="/survey/{escape(token)}">'
        '<p>Umur <input name="age" type="number" min="17" max="120" required></p>'
        f"<p>Jenis kelamin {_choices('sex', [s.value for s in ikm.Sex])}</p>"
        f"<p>Pendidikan {_choices('education', [e.value for e in ikm.Education])}</p>"
        f"<p>Pekerjaan {_choices('occupation', [o.value for o in ikm.Occupation])}</p>"
        f"<p>1 = tidak baik, 4 = sangat baik</p>{rows}"
        '<p>Saran <textarea name="suggestion" maxlength="1000"></textarea></p>'
        "<button>Kirim</button></form></html>"
    )


def router(runtime: Runtime, ctx: workflow.Context) -> APIRouter:
    api = APIRouter(tags=["survey"])

    @api.get("/survey/{token}", response_class=HTMLResponse)
    async def show(token: Token) -> str:
        async with runtime.pool.acquire() as conn:
            try:
                found = await workflow.survey_for(conn, token)
            except workflow.NotFound as e:
                raise HTTPException(404, str(e)) from None
        if found["answered_at"] is not None:
            return "<p>Terima kasih, survei ini sudah diisi.</p>"
        return page(token)

    @api.post("/survey/{token}", status_code=201)
    async def answer(token: Token, data: Annotated[SurveyAnswer, Form()]) -> dict[str, str]:
        """409 when this link was used already; 404 for a link never sent."""
        answer = workflow.Answer(
            age=data.age,
            sex=data.sex.value,
            education=data.education.value,
            occupation=data.occupation.value,
            scores=data.scores(),
            suggestion=data.suggestion,
        )
        try:
            async with runtime.pool.acquire() as conn, conn.transaction():
                await workflow.answer_survey(conn, ctx, token, answer)
        except workflow.NotFound as e:
            raise HTTPException(404, str(e)) from None
        except workflow.Conflict as e:
            raise HTTPException(409, str(e)) from None
        return {"status": "terima kasih"}

    return api
