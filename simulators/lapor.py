"""A local stand-in for SP4N-LAPOR!'s integration API (the national complaint system; its
real API cannot be reached from here): ``python -m simulators.lapor --port P [--token-file F]``.

- ``POST /api/complaints`` files a complaint; idempotent by ``external_id`` (the office's
  ticket): the same ``external_id`` answers 200 with the record filed first, a new one 201;
- ``GET /api/complaints/{id}``: the record with its status (``submitted`` at first);
- the stand-in's own controls, what LAPOR!'s administrators and outages do:
  ``POST /control/complaints/{id}/status`` moves a record (``verified``, ``in_process``,
  ``completed``), ``POST /control/outage`` answers the next ``requests`` API calls with 503,
  ``GET /control/complaints`` lists everything filed (with how often each was posted).
With a token file, the API wants ``Authorization: Bearer <token>`` (401 otherwise).
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Report(BaseModel):
    model_config = ConfigDict(extra="ignore")

    external_id: Short
    title: Short
    content: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    category: Short
    channel: Short
    kecamatan: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    received_at: datetime


class Move(BaseModel):
    status: Literal["verified", "in_process", "completed"]


class Outage(BaseModel):
    requests: int = Field(ge=0, le=1000)


def create_app(token: str | None = None) -> FastAPI:
    app = FastAPI(title="SP4N-LAPOR! stand-in")
    filed: dict[str, dict[str, Any]] = {}  # LAPOR! id -> record
    by_external: dict[str, str] = {}
    outage = {"left": 0}

    async def api_call(request: Request) -> None:
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            raise HTTPException(401, "invalid token")
        if outage["left"] > 0:
            outage["left"] -= 1
            raise HTTPException(503, "LAPOR! sedang dalam pemeliharaan")

    def found(lapor_id: str) -> dict[str, Any]:
        if lapor_id not in filed:
            raise HTTPException(404, f"no complaint {lapor_id}")
        return filed[lapor_id]

    @app.post("/api/complaints", dependencies=[Depends(api_call)])
    async def file(report: Report) -> JSONResponse:
        known = by_external.get(report.external_id)
        if known is not None:
            filed[known]["posts"] += 1
            return JSONResponse(filed[known], status_code=200)
        lapor_id = f"LPR{secrets.token_hex(5).upper()}"
        now = datetime.now(UTC).isoformat()
        filed[lapor_id] = {
            "id": lapor_id,
            **report.model_dump(mode="json"),
            "status": "submitted",
            "updated_at": now,
            "posts": 1,
        }
        by_external[report.external_id] = lapor_id
        return JSONResponse(filed[lapor_id], status_code=201)

    @app.get("/api/complaints/{lapor_id}", dependencies=[Depends(api_call)])
    async def read(lapor_id: str) -> dict[str, Any]:
        return found(lapor_id)

    @app.post("/control/complaints/{lapor_id}/status")
    async def move(lapor_id: str, body: Move) -> dict[str, Any]:
        record = found(lapor_id)
        record.update(status=body.status, updated_at=datetime.now(UTC).isoformat())
        return record

    @app.post("/control/outage", status_code=204)
    async def fail_next(body: Outage) -> None:
        outage["left"] = body.requests

    @app.get("/control/complaints")
    async def everything() -> list[dict[str, Any]]:
        return list(filed.values())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m simulators.lapor", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4601)
    parser.add_argument("--token-file", type=Path, help="the API token the stand-in expects")
    args = parser.parse_args()
    token = args.token_file.read_text().strip() if args.token_file else None
    uvicorn.run(create_app(token), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
