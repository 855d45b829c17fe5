"""The camat's and the district admin's dashboard: today and this month for one kecamatan
(the camat's own; the district admin picks one or the whole district), read-only, live.

Every figure comes from a stage's API with the viewer's token: today, this month and the
pipeline as it stands from service_quality (``/reports/today``, ``/reports/monthly``), the
desk's refusals by reason from intake (``/refusals``), dead letters from each stage's
``/health``. Charts are SVG drawn on the server (no chart script).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from schemas.regions import lumajang
from schemas.values import RegionLevel
from services.console.menu import entry
from services.console.pages import Console
from services.console.stages import StageError
from services.runtime.auth import may_see

ROLES = ("camat", "district_admin")
MENU = [entry("/dashboard", "menu.dashboard", *ROLES)]
KABUPATEN = "3508"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as printed beside the bar


def bars(counts: dict[str, Any], label_prefix: str = "") -> list[Bar]:
    """A chart's bars from ``{name: number}``, largest first (labels are i18n keys)."""
    items = [(k, v) for k, v in counts.items() if isinstance(v, int | float)]
    items.sort(key=lambda item: -item[1])
    return [Bar(label_prefix + k, float(v), f"{v:g}") for k, v in items]


@dataclass(frozen=True)
class Period:
    title: str  # an i18n key
    rows: list[tuple[str, str]]  # (i18n key, value)
    refusals: list[Bar]


def period(title: str, f: dict[str, Any], refused: dict[str, Any]) -> Period:
    """One period's counts: service_quality's figures (``Figures`` as JSON) and intake's
    refusals (``GET /refusals``: the files refused at the desk, read where they are counted)."""
    pct = f.get("on_time_pct")
    rows = [
        ("dash.received", sum(f["applications_by_type"].values())),
        ("dash.refused", refused["files"]),
        ("dash.sent_back", f["send_backs"]),
        ("dash.rejected", f["rejections"]),
        ("dash.ready", f["ready"]),
        ("dash.collected", f["collected"]),
        ("dash.stored", f["stored_uncollected"]),
        ("dash.on_time", "–" if pct is None else f"{pct:g} %"),
        ("dash.breaches", f["sla_breaches"]),
        ("dash.blanks_used", f["blanks_used"]),
        ("dash.spoiled", f["blanks_spoiled"]),
    ]
    return Period(title, [(k, str(v)) for k, v in rows], bars(refused["by_reason"]))


def lead_bars(lead_times: dict[str, dict[str, Any]]) -> list[Bar]:
    """Median hours per stage (the count of cards behind each median beside it)."""
    return [
        Bar(f"stage.{name}", float(s["median"]), f"{s['median']:g} j · n={s['count']}")
        for name, s in lead_times.items()
        if s.get("median") is not None
    ]


def offices() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in lumajang().children(KABUPATEN, RegionLevel.KABUPATEN)]


def routes(console: Console) -> APIRouter:
    router = APIRouter(prefix="/dashboard")
    settings = console.settings

    def stage_urls() -> dict[str, str]:
        return {
            "intake": settings.intake_url,
            "validation": settings.validation_url,
            "biometric": settings.biometric_url,
            "notification": settings.notification_url,
            "service_quality": settings.service_quality_url,
        }

    async def dead_letters(calls: Any) -> dict[str, int | None]:
        """Each stage's dead letters since it started (``None``: the stage did not answer)."""

        async def one(url: str) -> int | None:
            try:
                return int((await calls.health(url)).get("dead_letters", 0))
            except StageError:
                return None

        urls = stage_urls()
        counts = await asyncio.gather(*(one(u) for u in urls.values()))
        return dict(zip(urls, counts, strict=True))

    @router.get("")
    async def dashboard(request: Request, kecamatan: str = "", fragment: bool = False) -> Response:
        staff = await console.staff(request, *ROLES)
        chosen = staff.identity.kecamatan or kecamatan or None
        if chosen is not None and not may_see(staff.identity, chosen):
            raise HTTPException(404)
        calls = console.calls(staff)
        now = datetime.now(console.zone(chosen))
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month_start = day_start.replace(day=1)
        today, month, refused_today, refused_month, dead = await asyncio.gather(
            calls.today_figures(chosen),
            calls.monthly_figures(chosen),
            calls.refusals(chosen, day_start),
            calls.refusals(chosen, month_start),
            dead_letters(calls),
        )
        now = today["now"]
        context = {
            "kecamatan": chosen,
            "chosen_name": dict(offices()).get(chosen or "", ""),
            "offices": offices() if staff.identity.kecamatan is None else [],
            "periods": [
                period("dash.today", today["today"], refused_today),
                period("dash.month", month, refused_month),
            ],
            "now": now,
            "stage_bars": bars(now["in_stage"], "place."),
            "lead_bars": lead_bars(month["lead_times"]),
            "blank_bars": bars({dict(offices()).get(k, k): v for k, v in now["blanks"].items()}),
            "dead": dead,
            "query": f"?kecamatan={chosen}&" if chosen and not staff.identity.kecamatan else "?",
        }
        template = "dashboard/figures.html" if fragment else "dashboard/page.html"
        return console.render(request, template, staff, **context)

    return router
