"""The monthly report for a generated month matches counts taken directly from the topics."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from pypdf import PdfReader

from schemas.application import ApplicationType
from schemas.envelope import Envelope
from schemas.events import SpoilReason, StockChange
from schemas.samples import SAMPLE_PAYLOADS
from schemas.topics import Topics
from services.service_quality import reports, store, workflow
from tests.kit.payloads import envelope
from tests.kit.topics import publish, read_events
from tests.service_quality.kit import ManualClock, running, wib
from tests.waiting import wait_for

OFFICES = ("350805", "350810")


def _event(kind: str, app: object, kec: str, at: datetime, **update: object) -> Envelope:
    payload = SAMPLE_PAYLOADS[kind].model_copy(update=update)
    return envelope(payload, str(app), kec, occurred_at=at)


def generate(rng: random.Random, month_start: datetime, days: int) -> list[Envelope]:
    """A few weeks of two offices: applications of every kind through the pipeline, refusals,
    send-backs, blanks used and spoiled, certificates, stored and collected cards."""
    events: list[Envelope] = []
    for n in range(40):
        kec = OFFICES[n % 2]
        at = month_start + timedelta(days=rng.randrange(days), hours=rng.randrange(1, 8))
        app = uuid4()
        if rng.random() < 0.15:
            codes = rng.choice([("kk_photocopy_missing",), ("police_report_missing", "x")])
            events.append(_event("application.refused", app, kec, at, problem_codes=codes))
            continue
        kind = rng.choice(list(ApplicationType))
        deadline = at + timedelta(hours=rng.choice([20, 30]))
        steps = [("application.accepted", {"application_type": kind, "revision": 1,
                                           "deadline": deadline})]  # fmt: skip
        if rng.random() < 0.2:
            steps += [("application.sent_back", {}), ("application.accepted", {"revision": 2,
                      "application_type": kind, "deadline": deadline})]  # fmt: skip
        steps += [("application.validated", {}), ("biometrics.recorded", {})]
        if rng.random() < 0.2:
            steps += [("card.spoiled", {"reason": SpoilReason.PRINT_DEFECT})]
        if rng.random() < 0.1:
            steps += [("certificate.issued", {})]
        steps += [("stock.level", {"change": -1, "reason": StockChange.USED}),
                  ("card.ready_for_collection", {})]  # fmt: skip
        if rng.random() < 0.5:
            steps += [("card.collected", {})]
        else:  # left at the office: staff call, with an outcome
            outcome = rng.choice(["reached", "no_answer", "wrong_number"])
            steps += [("card.stored_uncollected", {}), ("call.logged", {"outcome": outcome})]
        for kind_, update in steps:
            at += timedelta(hours=rng.uniform(0.5, 6))
            events.append(_event(kind_, app, kec, at, **update))
    return events


async def test_report_matches_the_topics_and_is_produced_on_the_first_working_day(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    rng = random.Random(20)
    topics = Topics(topic_prefix)
    feb = generate(rng, wib(2025, 2, 1, 0), 27)
    around = generate(rng, wib(2025, 1, 20, 0), 10) + generate(rng, wib(2025, 3, 2, 0), 5)
    clock = ManualClock(wib(2025, 2, 28, 12))
    async with running(
        kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path, clock=clock,
        collective_leave=[],
    ) as sq:  # fmt: skip
        await publish(kafka_bootstrap, topics, *feb, *around)
        pool = sq.served.runtime.pool

        async def recorded() -> bool:
            async with pool.acquire() as conn:
                return await store.count_facts(conn) == len(feb) + len(around)

        await wait_for(recorded, timeout=60, what="every event recorded")

        # counted directly from the topics
        seen: list[Envelope] = []
        for topic in {topics.for_event(e.type, e.kecamatan) for e in feb + around}:
            expected = sum(topics.for_event(e.type, e.kecamatan) == topic for e in feb + around)
            seen += await read_events(kafka_bootstrap, topic, expected)
        zone = sq.settings.office_hours.zone
        in_feb = [e for e in seen if e.occurred_at.astimezone(zone).month == 2]
        kinds = Counter(e.type for e in in_feb)
        new_apps = Counter(
            e.payload.application_type.value  # type: ignore[attr-defined]
            for e in in_feb
            if e.type == "application.accepted" and e.payload.revision == 1  # type: ignore[attr-defined]
        )
        refused = Counter(
            code for e in in_feb if e.type == "application.refused"
            for code in e.payload.problem_codes  # type: ignore[attr-defined]
        )  # fmt: skip

        report = (await sq.served.http.get("/reports/monthly", params={"month": "2025-02"})).json()
        assert report["applications_by_type"] == dict(new_apps)
        assert report["refusals_by_reason"] == dict(refused)
        assert report["send_backs"] == kinds["application.sent_back"]
        assert report["blanks_used"] == kinds["stock.level"]
        assert report["blanks_spoiled"] == kinds["card.spoiled"]
        assert report["certificates"] == kinds["certificate.issued"]
        assert report["collected"] == kinds["card.collected"]
        assert report["stored_uncollected"] == kinds["card.stored_uncollected"]
        assert report["ready"] == kinds["card.ready_for_collection"]
        calls = Counter(e.payload.outcome for e in in_feb if e.type == "call.logged")  # type: ignore[attr-defined]
        assert calls and report["calls"] == dict(calls)
        assert report["lead_times"]["total"]["count"] == report["ready"]
        per_office = {k: v["applications"] for k, v in report["per_kecamatan"].items()}
        assert per_office == dict(
            Counter(e.kecamatan for e in in_feb if e.type == "application.accepted")
        )
        tempeh = (
            await sq.served.http.get(
                "/reports/monthly", params={"month": "2025-02", "kecamatan": "350805"}
            )
        ).json()
        assert sum(tempeh["applications_by_type"].values()) == sum(
            1 for e in in_feb if e.type == "application.accepted" and e.kecamatan == "350805"
            and e.payload.revision == 1  # type: ignore[attr-defined]
        )  # fmt: skip
        csv = (
            await sq.served.http.get(
                "/reports/monthly", params={"month": "2025-02", "format": "csv"}
            )
        ).text
        assert f"blanks,used,{kinds['stock.level']}" in csv
        assert f"calls,total,{calls.total()}" in csv

        # produced once the first working day of March comes (Saturday 1 March is not one)
        ctx = workflow.Context(sq.settings, clock, topics)
        clock.set(wib(2025, 3, 1, 9))
        assert await reports.produce_due(sq.served.runtime, ctx) == []
        clock.set(wib(2025, 3, 3, 7))
        assert sorted(await reports.produce_due(sq.served.runtime, ctx)) == [*OFFICES, "district"]
        assert await reports.produce_due(sq.served.runtime, ctx) == []  # once
        pdf = await sq.served.http.get("/reports/produced", params={"month": "2025-02"})
        assert pdf.status_code == 200
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Februari" in text or "February" in text
        assert date(2025, 2, 1) == reports.previous_month(date(2025, 3, 3))


async def test_a_month_that_is_no_date_is_refused_not_a_server_error(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Found by make chaos's fuzzer: month 0000-01 passed the pattern and failed as a date."""
    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path) as sq:
        for path in ("/reports/monthly", "/reports/produced"):
            answer = await sq.served.http.get(path, params={"month": "0000-01"})
            assert answer.status_code == 422, (path, answer.text)
