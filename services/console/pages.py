"""Rendering a page: the Jinja2 templates with what every page needs (the staff, their menu,
the words of their language, dates in their office's time zone), and the office a screen acts
for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from schemas.regions import lumajang
from schemas.values import RegionLevel
from services.console.auth import Login, Staff
from services.console.i18n import Words, lang_of
from services.console.menu import Entry, menu_for
from services.console.settings import ConsoleSettings
from services.console.stages import StageCalls, Stages
from services.runtime.auth import may_see

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Console:
    """What the screens share: settings, login, the stages' client, the templates, the menu."""

    settings: ConsoleSettings
    login: Login
    stages: Stages
    templates: Jinja2Templates
    menu: Sequence[Entry]

    def zone(self, kecamatan: str | None) -> ZoneInfo:
        name = self.settings.time_zones.get(kecamatan or "", self.settings.default_time_zone)
        return ZoneInfo(name)

    def words(self, request: Request, kecamatan: str | None = None) -> Words:
        return Words(lang_of(request.session.get("lang")), self.zone(kecamatan))

    def render(
        self,
        request: Request,
        template: str,
        staff: Staff | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        kecamatan = staff.identity.kecamatan if staff else None
        words = self.words(request, context.get("kecamatan") or kecamatan)
        base = {
            "t": words,
            "lang": words.lang,
            "staff": staff,
            "menu": menu_for(staff.identity, self.menu) if staff else [],
            "office_name": office_name(kecamatan) if kecamatan else None,
        }
        return self.templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status_code
        )

    async def staff(self, request: Request, *roles: str) -> Staff:
        """The logged-in staff (else ``LoginNeeded``), holding one of ``roles`` (else 403)."""
        staff = await self.login.staff(request)
        if roles and not (staff.identity.roles & {*roles, "district_admin"}):
            raise HTTPException(403)
        return staff

    def calls(self, staff: Staff) -> StageCalls:
        return self.stages.acting_as(staff.access_token)


def office_of(staff: Staff, request: Request) -> str:
    """The office a screen acts for: the staff's own; a district admin's ``?kecamatan=``."""
    code = staff.identity.kecamatan or request.query_params.get("kecamatan", "")
    if not code or not may_see(staff.identity, code):
        raise HTTPException(404)
    return code


def office_name(kecamatan: str) -> str:
    region = lumajang().get(kecamatan, RegionLevel.KECAMATAN)
    return region.name if region else kecamatan


def templates() -> Jinja2Templates:
    """The templates (autoescaped HTML); ``templates/<role>/`` holds a role's pages."""
    return Jinja2Templates(directory=TEMPLATES)
