"""The public complaint form (website channel): open to anyone, no login.

Spam resistance: a per-address rate limit (429), a honeypot field robots fill in, bounded
field lengths, and nothing stored before the whole form is valid (422 names the field).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import APIRouter, Form, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from services.runtime import commands, db
from services.runtime.commands import Answer, Command
from services.runtime.db import Conn
from services.runtime.service import Runtime
from services.service_quality import workflow
from services.service_quality.api.models import TicketOut, WebComplaint
from services.service_quality.rules import Category, ComplaintChannel


class RateLimit:
    """At most ``per_minute`` requests per client address in any 60 s."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        times = self.seen[client]
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True


_CATEGORIES = "".join(f'<option value="{c.value}">{c.value}</option>' for c in Category)
FORM = f"""<!doctype html><html lang="id"><meta charset="utf-8">
<title>Pengaduan layanan KTP-el</title>
<h1>Pengaduan layanan KTP-el</h1>
<form method="post" action="/pengaduan">
<label>Kode kecamatan <input name="kecamatan" required pattern="[0-9.]{{6,8}}"></label><br>
<label>Kategori <select name="category">{_CATEGORIES}</select></label><br>
<label>Perihal <input name="subject" required maxlength="200"></label><br>
<label>Isi pengaduan <textarea name="body" required maxlength="5000"></textarea></label><br>
<label>Nama <input name="name" maxlength="200"></label><br>
<label>E-mail <input name="email" type="email"></label><br>
<label>Telepon <input name="phone"></label><br>
<label>No. pelacakan permohonan <input name="application_ref"></label><br>
<div style="display:none"><label>Website <input name="website" tabindex="-1"
 autocomplete="off"></label></div>
<button>Kirim</button></form></html>"""


def router(runtime: Runtime, ctx: workflow.Context) -> APIRouter:
    api = APIRouter(tags=["public"])
    limit = RateLimit(ctx.settings.web_complaints_per_minute)

    @api.get("/pengaduan", response_class=HTMLResponse)
    async def form() -> str:
        return FORM

    @api.post("/pengaduan", status_code=201, response_model=TicketOut)
    async def submit(
        data: Annotated[WebComplaint, Form()],
        request: Request,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
        ] = None,
    ) -> JSONResponse:
        """Returns the ticket number; 422 names a missing or wrong field; 429 when one address
        sends too many. A resend with the same ``Idempotency-Key`` (a retry after a timeout, a
        double click) gets the first ticket again instead of a second complaint."""
        client = request.client.host if request.client else "?"
        if not limit.allow(client):
            raise HTTPException(429, "terlalu banyak pengaduan dari alamat ini; coba lagi nanti")
        if data.website:
            raise HTTPException(400, "pengaduan ditolak")
        new = data.draft(data.kecamatan, ComplaintChannel.WEBSITE)

        async def nothing_to_lock(conn: Conn) -> None:
            return None

        async def file(conn: Conn, _: None) -> Answer:
            await db.scoped(conn, data.kecamatan)
            row = await workflow.receive(conn, ctx, new, "website")
            ticket = TicketOut(ticket=row["ticket"], follow_up_due=row["follow_up_due"])
            return Answer(201, ticket.model_dump(mode="json"))

        command = Command("web-complaint", idempotency_key, data.model_dump(mode="json"))
        try:
            answer = await commands.run(runtime.pool, command, nothing_to_lock, file)
        except commands.KeyReused:
            raise HTTPException(
                422, "Idempotency-Key ini sudah dipakai untuk pengaduan lain"
            ) from None
        return JSONResponse(answer.body, status_code=answer.status_code)

    return api
