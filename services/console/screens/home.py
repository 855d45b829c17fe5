"""Home: who is logged in, for which office, and the menu of their role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.pages import Console


def routes(console: Console) -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def home(request: Request) -> Response:
        staff = await console.staff(request)
        return console.render(request, "home.html", staff)

    return router
