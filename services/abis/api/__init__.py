"""The ABIS's HTTP API: ``GET /health`` (with the gallery size) only; requests come over Kafka."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from services.abis.workflow import Abis
from services.runtime import http
from services.runtime.service import Runtime


def create_app(runtime: Runtime, abis: Abis) -> FastAPI:
    router = APIRouter()

    @router.get("/gallery")
    async def gallery() -> dict[str, int]:
        """How many references the index holds."""
        return {"references": len(abis.index)}

    return http.app(
        "Tuntas ABIS",
        "1:N identification behind the biometric stage (requests over Kafka, docs/abis.md).",
        runtime.health,
        [router],
    )
