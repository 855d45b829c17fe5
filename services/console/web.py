"""The console's FastAPI app: session cookie, static files, login/logout/language, the live
stream, the error pages, and every screen's routes (``screens.SCREENS``)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from authlib.integrations.starlette_client import OAuthError
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from services.console import screens
from services.console.auth import LoginNeeded, safe_next
from services.console.live import EVERY_OFFICE, HEARTBEAT_S, Nudges
from services.console.pages import Console, office_of
from services.console.stages import StageError
from services.runtime.auth import DISTRICT_ADMIN

STATIC = Path(__file__).parent / "static"
COOKIE = "tuntas_console"
RELOAD_S = 5  # a page that met a restarting stage reloads itself this often


def session_secret(console: Console) -> str:
    settings = console.settings
    if settings.session_secret_file:
        return Path(settings.session_secret_file).read_text().strip()
    return settings.session_secret or secrets.token_urlsafe(32)


def create_app(console: Console, nudges: Nudges, stop: asyncio.Event) -> FastAPI:
    app = FastAPI(title="Tuntas console", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(console),
        session_cookie=COOKIE,
        max_age=12 * 3600,  # one working day; the IdP's own session ends it sooner when idle
        same_site="lax",  # the IdP's redirect back is a top-level GET: the cookie comes along
        https_only=console.settings.secure_cookie,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    login = console.login

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login")
    async def login_page(request: Request, next: str = "/", bye: bool = False) -> Response:
        return console.render(request, "login.html", next=safe_next(next), bye=bye)

    @app.post("/login")
    async def login_start(request: Request) -> Response:
        form = await request.form()
        response: Response = await login.start(request, str(form.get("next", "/")))
        return response

    @app.get("/auth/callback", name="auth_callback")
    async def auth_callback(request: Request) -> Response:
        try:
            back = await login.finish(request)
        except OAuthError:  # a stale or replayed answer: start again
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(back, status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        back = str(request.url_for("login_page").include_query_params(bye="true"))
        return RedirectResponse(await login.logout(request, back), status_code=303)

    @app.post("/lang")
    async def switch_language(request: Request) -> Response:
        form = await request.form()
        request.session["lang"] = "en" if form.get("lang") == "en" else "id"
        return RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)

    @app.get("/live")
    async def live(request: Request) -> Response:
        """Server-sent events: ``event: queue`` with the name of a queue that changed."""
        staff = await console.staff(request)
        every = DISTRICT_ADMIN in staff.identity.roles and not request.query_params.get("kecamatan")
        office = EVERY_OFFICE if every else office_of(staff, request)

        async def stream() -> AsyncIterator[str]:
            async with nudges.listen(office) as queue:
                yield "retry: 3000\n\n"
                while not stop.is_set() and not await request.is_disconnected():
                    try:
                        name = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                    except TimeoutError:
                        yield ": still here\n\n"
                        continue
                    yield f"event: queue\ndata: {name}\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    for screen in screens.SCREENS:
        app.include_router(screen.routes(console))

    @app.exception_handler(LoginNeeded)
    async def _login_needed(request: Request, exc: LoginNeeded) -> Response:
        target = str(request.url_for("login_page").include_query_params(next=exc.next_path))
        if request.headers.get("HX-Request"):  # htmx: the whole page goes, not a fragment
            return Response(status_code=200, headers={"HX-Redirect": target})
        if request.url.path == "/live":
            return JSONResponse({"detail": "log in"}, status_code=401)
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return _error_page(console, request, exc.status_code)

    @app.exception_handler(StageError)
    async def _stage_error(request: Request, exc: StageError) -> Response:
        if exc.status == 401:  # the stage refused the token: the session is over
            login.sessions.close(request.session.pop("sid", None))
            return await _login_needed(request, LoginNeeded(request.url.path))
        return _error_page(console, request, exc.status if exc.status in (403, 404) else 503)

    return app


def _error_page(console: Console, request: Request, status: int) -> Response:
    key = {403: "error.forbidden", 404: "error.not_found"}.get(status, "error.stage")
    # A page read that met a stage still restarting (past the calls' own retries) reloads
    # itself: staff see why, and the page comes back without them doing anything.
    reload_s = RELOAD_S if status == 503 and request.method == "GET" else None
    staff = console.login.sessions.get(request.session.get("sid"))
    return console.render(
        request, "error.html", staff, status_code=status, message=key, reload_s=reload_s
    )
