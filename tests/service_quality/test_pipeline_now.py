"""The dashboard's "now": where each open application is after its last event, the open ones
past their promised date, and each office's last reported blank stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.service_quality.figures import now

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def fact(
    kind: str, app: str, hours_ago: float, kec: str = "350805", **payload: Any
) -> dict[str, Any]:
    at = AT - timedelta(hours=hours_ago)
    return {
        "type": kind,
        "application_id": app,
        "kecamatan": kec,
        "occurred_at": at,
        "payload": payload,
    }


def accepted(app: str, hours_ago: float, due_in_h: float) -> dict[str, Any]:
    deadline = (AT + timedelta(hours=due_in_h)).isoformat()
    return fact("application.accepted", app, hours_ago, deadline=deadline, revision=1)


def test_each_open_application_in_its_place_and_the_late_ones_stuck() -> None:
    facts = [
        accepted("a", 50, -2),  # past its date and still at the kasi: stuck
        accepted("b", 40, 10),
        fact("application.validated", "b", 30),
        accepted("c", 30, -1),
        fact("application.sent_back", "c", 20),  # at the desk for corrections, late: stuck
        accepted("d", 30, 5),
        fact("application.validated", "d", 20),
        fact("biometrics.recorded", "d", 10),
        fact("card.ready_for_collection", "d", 5),
        accepted("e", 30, -5),
        fact("application.validated", "e", 20),
        fact("biometrics.skipped", "e", 10),
        fact("card.ready_for_collection", "e", 6),
        fact("card.collected", "e", 1),  # out of the pipeline, late or not
        fact("stock.level", "s1", 9, blanks_available=40, change=-1, reason="used"),
        fact("stock.level", "s2", 3, blanks_available=39, change=-1, reason="used"),
        fact(
            "stock.level", "s3", 2, kec="350806", blanks_available=7, change=10, reason="delivered"
        ),
    ]
    pipeline = now(AT, facts)
    assert pipeline.in_stage == {
        "validation": 1,
        "corrections": 1,
        "biometric": 1,
        "card_production": 0,
        "ready": 1,
    }
    assert pipeline.stuck == 2
    assert pipeline.blanks == {"350805": 39, "350806": 7}
