"""A stage's FastAPI app: its title and description, ``GET /health`` and its task routers."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

from services.runtime import health


def app(
    title: str, description: str, health_of: health.Health, routers: Iterable[APIRouter]
) -> FastAPI:
    """The app a stage serves: ``GET /health`` on ``health_of`` first, then ``routers``."""
    served = FastAPI(title=title, description=description, version="1")
    served.include_router(health.endpoint(health_of))
    for router in routers:
        served.include_router(router)
    return served
