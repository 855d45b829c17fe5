"""The Kepala Seksi Pelayanan's HTTP API: the work queue (:mod:`.queue`) and the decisions
on it (:mod:`.decisions`)."""

from __future__ import annotations

from fastapi import FastAPI

from schemas.topics import Topics
from services.runtime import http
from services.runtime.auth import Access
from services.runtime.service import Runtime
from services.validation.api import decisions, queue
from services.validation.settings import ValidationSettings


def create_app(runtime: Runtime, settings: ValidationSettings) -> FastAPI:
    topics = Topics(settings.connections.tuntas_topic_prefix)
    access = Access.from_env()
    return http.app(
        "Tuntas validation",
        "The Kepala Seksi Pelayanan's check: approve, send back or reject.",
        runtime.health,
        [queue.router(runtime, access), decisions.router(runtime, topics, access)],
    )
