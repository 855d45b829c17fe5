"""The simulated capture device service: every recording station's devices behind one HTTP
server, speaking the protocol of ``docs/capture-devices.md`` under ``/{station}/…``.

``PUT /{station}/subject`` is the simulator's own control (who sits down at the devices next);
a transaction that starts with no subject set gets the next person of the library, if the
service has one (``simulators.capture.library``), else a person derived from its transaction id.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import FastAPI, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from simulators.capture.library import Library, library_seed
from simulators.capture.render import EYES, FINGERS, ITEMS
from simulators.capture.subjects import Subject

MAX_TRANSACTIONS = 1024  # per station; the oldest is forgotten first
Station = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,32}$")]
_DEVICES: tuple[tuple[str, str, list[str]], ...] = (
    ("finger", "SIM-FP", [*FINGERS]),
    ("iris", "SIM-IR", [*EYES]),
    ("face", "SIM-FC", []),
    ("signature", "SIM-SG", []),
)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubjectBody(_Body):
    seed: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    poor_attempts: dict[str, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)
    absent: list[str] = Field(default_factory=list, description="fingers never detected")

    @field_validator("poor_attempts")
    @classmethod
    def _known_items(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(ITEMS))
        if unknown:
            raise ValueError(f"unknown item(s) {unknown}; items are {list(ITEMS)}")
        return value

    @field_validator("absent")
    @classmethod
    def _known_fingers(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(FINGERS))
        if unknown:
            raise ValueError(f"unknown finger(s) {unknown}; fingers are {list(FINGERS)}")
        return value


class CaptureBody(_Body):
    transaction_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    item: str


@dataclass
class _Station:
    waiting: Subject | None = None  # sits down at the next new transaction
    transactions: OrderedDict[str, Subject] = field(default_factory=OrderedDict)

    def subject(self, transaction_id: str, library: Library | None) -> Subject:
        found = self.transactions.get(transaction_id)
        if found is None:
            found, self.waiting = self.waiting or _newcomer(transaction_id, library), None
            self.transactions[transaction_id] = found
            while len(self.transactions) > MAX_TRANSACTIONS:
                self.transactions.popitem(last=False)
        return found


def _newcomer(transaction_id: str, library: Library | None) -> Subject:
    person = library.take() if library is not None else None
    if library is None or person is None:
        return Subject(seed=transaction_id)
    return Subject(seed=library_seed(person), recorded=(library, person))


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def create_app(library: Library | None = None) -> FastAPI:
    app = FastAPI(title="Tuntas simulated capture devices", version="1")
    stations: dict[str, _Station] = {}
    lock = threading.Lock()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/{station}/info")
    def info(station: Station) -> dict[str, object]:
        return {
            "station": station,
            "devices": [
                {
                    "type": kind,
                    "serial": f"{prefix}-{station}",
                    "make": "Tuntas",
                    "model": "simulator",
                    "subtypes": subtypes,
                    "status": "ready",
                }
                for kind, prefix, subtypes in _DEVICES
            ],
        }

    @app.get("/{station}/status")
    def device_status(station: Station) -> dict[str, object]:
        return {
            "station": station,
            "status": "ready",
            "devices": {k: "ready" for k, *_ in _DEVICES},
        }

    @app.put("/{station}/subject", status_code=204)
    def put_subject(station: Station, body: SubjectBody) -> None:
        subject = Subject(body.seed, dict(body.poor_attempts), tuple(body.absent))
        with lock:
            stations.setdefault(station, _Station()).waiting = subject

    @app.post("/{station}/capture", response_model=None)
    def capture(station: Station, body: CaptureBody) -> dict[str, object] | JSONResponse:
        if body.item not in ITEMS:
            return _error(422, "unknown_item", f"no device captures {body.item!r}")
        with lock:  # rendering runs outside it: the server's threads render side by side
            subject = stations.setdefault(station, _Station()).subject(body.transaction_id, library)
            attempt = subject.next_attempt(body.item)
        rendered = subject.capture(body.item, attempt)
        answer: dict[str, object] = {
            "transaction_id": body.transaction_id,
            "item": body.item,
            "attempt": attempt,
        }
        if rendered is None:
            return {**answer, "outcome": "not_detected"}
        return {
            **answer,
            "outcome": "captured",
            "media_type": rendered.media_type,
            "quality": rendered.quality,
            "data": base64.b64encode(rendered.data).decode(),
        }

    return app
