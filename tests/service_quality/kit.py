"""The service quality stage in-process against the session's Kafka and PostgreSQL, with the
outside world's mail relay (``simulators.mail``) on a free port."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.service_quality.main import serve
from services.service_quality.settings import ServiceQualitySettings
from simulators import mail
from tests.kit.stage import Served, connections, serving
from tests.kit.tokens import DISTRICT_ADMIN, As

TEMPEH_MAILBOX = "kec_tempeh@lumajangkab.go.id"


class ManualClock:
    """The service clock, moved only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in Jakarta time (the offices' default zone)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Jakarta"))


@dataclass
class Running:
    served: Served
    relay_log: Path
    settings: ServiceQualitySettings

    @property
    def smtp_port(self) -> int:
        return int(self.served.runtime.extra["smtp_port"])


def _user(request: httpx.Request) -> str:
    """Tempeh's front desk keys in and follows up complaints; the district admin reads the
    district's reports and the mailbox's intake log. (The tests get ``TUNTAS_OIDC_ISSUER``
    from conftest's ``oidc_env``.)"""
    district = request.url.path.startswith(("/reports", "/mailbox"))
    return DISTRICT_ADMIN if district else "desk.tempeh"


@asynccontextmanager
async def running(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
    *,
    clock: Any = None,
    **overrides: Any,
) -> AsyncIterator[Running]:
    log = tmp_path / "mail.jsonl"
    relay = await mail.start("127.0.0.1", 0, log)
    settings = ServiceQualitySettings(
        connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
        db_schema=db_schema,
        http_port=0,
        smtp_port=0,
        relay_port=relay.sockets[0].getsockname()[1],
        mail_poll_s=0.1,
        **overrides,
    )
    try:
        async with serving(serve, settings, clock=clock) as served:
            served.http.auth = As(os.environ["TUNTAS_OIDC_ISSUER"], _user)
            yield Running(served, log, settings)
    finally:
        relay.close()
        await relay.wait_closed()
