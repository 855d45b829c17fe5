"""A service's health: is each loop alive, how far behind, when did it last make progress.

Every loop of a service (consumers, the relay, the HTTP server, background jobs such as an
automatic operator or a reminder scheduler) is meant to run until the service stops. One that
ends early, by an error or by returning, makes the service unhealthy: ``GET /health`` answers
503 and says in ``stopped`` which loop ended and why, so a probe restarts the process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse


@dataclass
class Health:
    service: str
    started_at: float = field(default_factory=time.time)
    loops: dict[str, bool] = field(default_factory=dict)  # name -> running
    stopped: dict[str, str] = field(default_factory=dict)  # name -> why it ended early
    consumers: list[Any] = field(default_factory=list)  # Consumer objects (for their stats)
    relays: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # service-specific: queue sizes, …

    @property
    def ok(self) -> bool:
        return bool(self.loops) and all(self.loops.values())

    def snapshot(self) -> dict[str, Any]:
        lag: dict[str, int] = {}
        handled = dead = 0
        last: float | None = None
        for consumer in self.consumers:
            lag.update(consumer.stats.lag)
            handled += consumer.stats.handled
            dead += consumer.stats.dead_letters
            if consumer.stats.last_batch_at:
                last = max(last or 0.0, consumer.stats.last_batch_at)
        return {
            "service": self.service,
            "status": "ok" if self.ok else "down",
            "uptime_s": round(time.time() - self.started_at, 1),
            "loops": dict(self.loops),
            "stopped": dict(self.stopped),
            "handled": handled,
            "dead_letters": dead,
            "published": sum(r.published for r in self.relays),
            "lag": sum(lag.values()),
            "lag_by_partition": lag,
            "last_batch_at": last,
            **self.extra,
        }


def endpoint(health: Health) -> APIRouter:
    """``GET /health``: the snapshot, 200 when every loop runs, else 503. Open to probes."""
    router = APIRouter(tags=["ops"])

    @router.get("/health")
    async def get_health() -> JSONResponse:
        return JSONResponse(health.snapshot(), status_code=200 if health.ok else 503)

    return router
