"""The monthly performance report (PDF, CSV or JSON) and the IKM, for any month, per kecamatan
or for the district; and the reports produced on the first working day."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from schemas.values import KecamatanCode
from services.runtime.auth import Access, Identity, own_office
from services.runtime.db import caller_scope
from services.runtime.service import Runtime
from services.service_quality import report_pdf, reports, store, workflow

# This century only: year 0000 is no date (was a 500), and a report needs the month after.
Month = Annotated[str, Query(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _month(text: str | None, ctx: workflow.Context) -> date:
    if text is None:
        return ctx.clock.now().astimezone(ctx.calendar.hours.zone).date().replace(day=1)
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def router(runtime: Runtime, ctx: workflow.Context, access: Access) -> APIRouter:
    api = APIRouter(tags=["reports"])
    readers = access.staff("camat", "kasi")

    @api.get("/reports/monthly", response_model=None)
    async def monthly(
        caller: Identity = readers,
        month: Month | None = None,
        kecamatan: KecamatanCode | None = None,
        format: Literal["json", "csv", "pdf"] = "json",
    ) -> Response | dict[str, Any]:
        """One month (default: this month so far) for one kecamatan, or the district (the
        district admin only); office staff see their own kecamatan."""
        kecamatan = own_office(caller, kecamatan)
        async with runtime.pool.acquire() as conn:
            f = await reports.build(conn, ctx, _month(month, ctx), kecamatan)
        name = f"kinerja-{f.month:%Y-%m}-{kecamatan or 'kabupaten'}"
        if format == "pdf":
            return Response(
                report_pdf.to_pdf(f),
                media_type="application/pdf",
                headers={"content-disposition": f'attachment; filename="{name}.pdf"'},
            )
        if format == "csv":
            return Response(report_pdf.to_csv(f), media_type="text/csv")
        return {**dataclasses.asdict(f), "on_time_pct": f.on_time_pct}

    @api.get("/reports/today")
    async def today(
        caller: Identity = readers, kecamatan: KecamatanCode | None = None
    ) -> dict[str, Any]:
        """Today so far and the pipeline now (applications in each place, stuck ones, blank
        stock): the camat's and the district admin's dashboard."""
        kecamatan = own_office(caller, kecamatan)
        async with caller_scope(runtime.pool, caller) as conn:
            done, now = await reports.today(conn, ctx, kecamatan)
        return {
            "today": {**dataclasses.asdict(done), "on_time_pct": done.on_time_pct},
            "now": dataclasses.asdict(now),
        }

    @api.get("/reports/produced")
    async def produced(
        *, caller: Identity = readers, month: Month, kecamatan: KecamatanCode | None = None
    ) -> Response:
        """The PDF produced on the first working day after ``month`` ('' = the district, for
        the district admin; office staff get their own kecamatan's)."""
        office = own_office(caller, kecamatan) or ""
        async with runtime.pool.acquire() as conn:
            pdf = await store.produced_pdf(conn, _month(month, ctx), office)
        if pdf is None:
            raise HTTPException(404, "not produced")
        return Response(pdf, media_type="application/pdf")

    return api
