"""SLA breaches from the faust timeline, and SMS failures visible and reported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.kit.payloads import phone
from tests.notification.conftest import Smsc
from tests.notification.service_kit import (
    accepted,
    harness,
    new_app,
    read_events,
    ready,
    wib,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("oidc_env")  # the service verifies tokens


async def test_sla_breach_for_a_late_application_only_once_and_not_for_an_on_time_one(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, smsc: Smsc
) -> None:
    async with harness(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        smsc=smsc,
        timeline=True,
    ) as h:
        timeline = h.runtime.extra["timeline"]
        late, on_time = new_app(), new_app()
        await h.publish(
            accepted(late, phone()), accepted(on_time, phone()), ready(on_time, wib(6, 15))
        )
        await wait_for(
            lambda: (timeline.get(str(on_time)) or {}).get("ready_at") and timeline.get(str(late)),
            timeout=60,
            what="both timelines",
        )
        # Deadline: Tuesday 7 January 09:00 WIB (1 working day after Monday 09:00).
        assert timeline.get(str(late))["deadline"] == "2025-01-07T09:00:00+07:00"
        h.clock.set(wib(7, 8, 59))
        assert await timeline.check() == 0
        h.clock.set(wib(7, 9, 1))

        async def breaches() -> list[str]:
            found = await read_events(h.bootstrap, h.topics.notification_events, "sla.breached")
            return [str(e.application_id) for e in found]

        assert await wait_for(breaches, timeout=60, what="the sla.breached event") == [str(late)]
        await wait_for(lambda: timeline.get(str(late))["breached_for"], what="the breach read back")
        assert await timeline.check() == 0  # at most once per application and deadline
        assert await breaches() == [str(late)]
        counts = (await h.http.get("/sla", params={"kecamatan": "350805"})).json()
        assert counts["kecamatan"]["350805"] == {"open": 0, "on_time": 1, "late": 1}


async def test_smsc_errors_are_retried_then_failed_and_reported(
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    faulty_smsc: Callable[..., Awaitable[Smsc]],
) -> None:
    smsc = await faulty_smsc("--throttle-first", "1000")
    async with harness(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=db_schema,
        topic_prefix=topic_prefix,
        smsc=smsc,
        smsc_max_attempts=1,
        send_max_attempts=3,
    ) as h:
        app = new_app()
        await h.publish(accepted(app, phone()))
        (row,) = await wait_for(
            lambda: h.messages(status="failed"), timeout=60, what="the failed SMS"
        )
        assert (row["application_id"], row["attempts"]) == (str(app), 3)
        assert "0x58" in row["last_error"]
        failed = await wait_for(
            lambda: read_events(h.bootstrap, h.topics.notification_events, "notification.failed"),
            what="notification.failed",
        )
        assert [e.application_id for e in failed] == [app]
        assert smsc.records() == []
