"""The biometric stage's HTTP API, one router per staff task: the recording operator
(`recording`), the adjudicating officer (`adjudication`) and the card stations (`stations`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.biometric.api import adjudication, recording, stations
from services.biometric.workflow import Stage
from services.runtime import http
from services.runtime.auth import Access
from services.runtime.service import Runtime


def create_app(runtime: Runtime, stage: Stage) -> FastAPI:
    access = Access.from_env()
    return http.app(
        "Tuntas biometric stage",
        "Recording queue, biometric capture, duplicate adjudication, card data.",
        runtime.health,
        [task.router(runtime, stage, access) for task in (recording, adjudication, stations)],
    )
