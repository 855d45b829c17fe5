"""A small demo day end to end on the real components: the report's figures are the events
actually on the topics and the rows actually in the stages' databases."""

from __future__ import annotations

import io
from collections import Counter
from html import unescape
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from rich.console import Console

from schemas.envelope import parse_event
from schemas.topics import Topics
from tuntas import up
from tuntas.demo.run import DemoOptions, run_demo
from tuntas.demo.watch import run_topics
from tuntas.tail import partitions

TEMPEH = "350805"


async def _events_on(bootstrap: str, topics: list[str]) -> Counter[str]:
    """Every event on ``topics``, read from the start by a consumer of the test's own."""
    parts = await partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        seen: dict[object, str] = {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = parse_event(record.value or b"")
                    seen[event.message_id] = event.type
    finally:
        await consumer.stop()
    return Counter(seen.values())


@pytest.mark.timeout(900)
async def test_small_demo_day_report_matches_topics_and_databases(
    kafka_bootstrap: str,
    pg_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    oidc_issuer: str,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("TUNTAS_OIDC_ISSUER", oidc_issuer)  # the staff log in there
    monkeypatch.setenv("DATABASE_URL", pg_dsn)
    monkeypatch.setenv("TUNTAS_HOME", str(tmp_path / "home"))
    out = io.StringIO()
    result = await run_demo(
        DemoOptions(
            applicants=7,
            kecamatan=(TEMPEH,),
            seed=7,
            day_s=8.0,
            timeout_s=600.0,
            out=tmp_path / "report",
            progress=False,
            port_offset=600,
            keep=True,  # this test reads them; it removes them at the end
        ),
        console=Console(file=out, width=100),
    )
    report = result.report
    office = report.offices[0]

    # Every case of the day happened, through the real services.
    assert office.applicants == 7
    assert office.refused_at_desk >= 1
    assert office.counts["application.sent_back"] >= 1
    assert office.counts["biometrics.skipped"] >= 1
    assert office.counts["biometrics.recorded"] >= 1
    assert office.counts["card.waiting_for_stock"] >= 1
    assert len(report.run_outs) >= 1 and len(report.deliveries) >= 2
    assert len(report.printer_stops) == 1
    assert office.counts["card.collected"] >= 1
    assert office.counts["card.stored_uncollected"] >= 1
    assert report.calls >= 1
    assert report.sms_by_purpose.get("uncollected_reminder", 0) >= 1
    assert office.counts["card.collected"] + office.counts["card.stored_uncollected"] == 7

    # The topics hold exactly what the report counted.
    topics = run_topics(Topics(result.options.topic_prefix), (TEMPEH,))
    assert await _events_on(kafka_bootstrap, topics) == Counter(report.event_counts)

    # The databases agree with the report.
    conn = await asyncpg.connect(result.endpoints_db)
    try:

        async def count(sql: str) -> int:
            return int(await conn.fetchval(sql))

        assert (
            await count("SELECT count(*) FROM intake.applications")
            == office.counts["application.accepted"]
        )
        assert await count("SELECT count(*) FROM intake.refusals") == office.refused_at_desk
        assert (
            await count("SELECT count(*) FROM intake.applications WHERE state = 'collected'")
            == office.counts["card.collected"]
        )
        assert (
            await count(
                "SELECT count(*) FROM intake.applications WHERE state = 'stored_uncollected'"
            )
            == office.counts["card.stored_uncollected"]
        )
        assert (
            await count("SELECT count(*) FROM biometric.applications WHERE skipped")
            == office.counts["biometrics.skipped"]
        )
        assert (
            await count("SELECT count(*) FROM biometric.applications WHERE NOT skipped")
            == office.counts["biometrics.recorded"]
        )
        station = f"card_production_{TEMPEH}"
        assert (
            await count(f"SELECT count(*) FROM {station}.jobs")
            == office.counts["record.print_ready"]
        )
        assert (
            await count(f"SELECT count(*) FROM {station}.jobs WHERE print_job IS NOT NULL")
            == office.counts["card.printed"]
        )
        assert (
            await count("SELECT count(*) FROM notification.sms_outbox WHERE sent_at IS NOT NULL")
            == report.sms_sent
        )
        assert (
            await count(
                "SELECT count(*) FROM notification.call_tasks t JOIN notification.contacts c"
                " USING (application_id) WHERE t.status = 'open' AND c.phone IS NOT NULL"
            )  # the call list; applicants without a phone are on the desk list
            == report.calls
        )
    finally:
        await conn.close()

    # The printed cards and the SMSC's log are where the report says.
    assert report.pdfs == office.counts["card.printed"]
    assert report.sms_log_lines == report.sms_sent
    html = (tmp_path / "report" / "report.html").read_text()
    assert html.count("<svg") == 3 and "Tempeh" in html
    assert "report.md" in out.getvalue()

    # The public's voice: a complaint on each channel, the desk's work, survey answers, and the
    # month-so-far report with the IKM, as the service quality stage produced them.
    voice = report.voice
    assert voice is not None
    channels = {"website": 1, "email": 1, "telephone": 1, "suggestion_box": 1}
    assert voice.complaints[TEMPEH] == channels
    assert voice.monthly["complaints_by_channel"] == channels
    assert (
        voice.followed_up == 2 and voice.acknowledged == 2
    )  # web and e-mail: acknowledged by mail
    assert voice.survey_links >= 1 and voice.survey_answers >= 1
    ikm = voice.ikm[TEMPEH]
    assert ikm is not None and ikm["responses"] == voice.survey_answers and ikm["grade"] in "ABCD"
    assert (tmp_path / "report" / "monthly-report.pdf").read_bytes().startswith(b"%PDF")
    assert "complaints,website,1" in (tmp_path / "report" / "monthly-report.csv").read_text()
    assert "The public's voice" in unescape(html) and 'href="monthly-report.pdf"' in html
    assert await up.drop_topics(kafka_bootstrap, result.options.topic_prefix) >= len(topics)
