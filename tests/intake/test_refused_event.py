"""A file refused at the desk is counted and published as ``application.refused``: the problem
codes, the office, the type and the officer of the token, no personal data; the count and the
event are written in one transaction."""

from __future__ import annotations

import asyncpg

from schemas.envelope import parse_event
from schemas.events import ApplicationRefused
from schemas.samples import APPLICANT, TEMPEH
from tests.intake.kit import Desk, man_applicant, new_card_file
from tests.kit.topics import read_topic


async def test_a_refused_file_is_published_with_its_codes_and_no_personal_data(
    desk: Desk,
) -> None:
    lost = new_card_file(application_type="lost", documents={}, kk_scan=None)
    assert (await desk.client.post("/applications", json=lost)).status_code == 422
    # A body that does not even parse (an impossible NIK) is refused and published too.
    applicant = man_applicant() | {"nik": "3508051203900000"}
    unparsed = new_card_file(applicant=applicant, documents={})
    assert (await desk.client.post("/applications", json=unparsed)).status_code == 422

    values = await read_topic(desk.bootstrap, desk.topics.intake_events, 2)
    events = sorted((parse_event(v) for v in values), key=lambda e: e.occurred_at)
    assert [e.type for e in events] == ["application.refused"] * 2
    first, second = (e.payload for e in events)
    assert isinstance(first, ApplicationRefused) and isinstance(second, ApplicationRefused)
    assert first.application_type is not None and first.application_type.value == "lost"
    assert set(first.problem_codes) == {"missing_police_report", "missing_kk_photocopy"}
    assert {"nik_invalid_serial", "missing_kk_photocopy"} <= set(second.problem_codes)
    # The officer is the token's user, not what the body claims ("petugas.tempeh.01").
    assert first.officer_id == second.officer_id == "desk.tempeh"
    assert {e.kecamatan for e in events} == {TEMPEH}
    # Each refused file is its own story: it joins no application.
    assert len({e.correlation_id for e in events}) == 2
    for value in values:
        for personal in (APPLICANT.nik, APPLICANT.name, APPLICANT.kk_number, "3508051203900000"):
            assert personal.encode() not in value
        assert b"Budi Santoso" not in value

    codes = await desk.scalar(
        "SELECT array_agg(code ORDER BY code) FROM refusals, unnest(problem_codes) AS code"
    )
    published = sorted(c for e in (first, second) for c in e.problem_codes)
    assert codes == published


async def test_the_count_and_the_event_are_written_together(
    desk: Desk, pg_dsn: str, db_schema: str
) -> None:
    """An outbox that refuses the insert leaves no refusal row either; the applicant is still
    told what is missing."""
    admin = await asyncpg.connect(pg_dsn)
    try:
        await admin.execute(
            f'CREATE FUNCTION "{db_schema}".refuse_insert() RETURNS trigger LANGUAGE plpgsql'
            " AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable (test)'; END $$"
        )
        await admin.execute(
            f'CREATE TRIGGER refuse_insert BEFORE INSERT ON "{db_schema}".outbox'
            f' FOR EACH ROW EXECUTE FUNCTION "{db_schema}".refuse_insert()'
        )
        body = new_card_file(kk_scan=None)
        refused = await desk.client.post("/applications", json=body)
        assert refused.status_code == 422
        assert [p["code"] for p in refused.json()["detail"]] == ["missing_kk_scan"]
        assert await admin.fetchval(f'SELECT count(*) FROM "{db_schema}".refusals') == 0
        assert await admin.fetchval(f'SELECT count(*) FROM "{db_schema}".outbox') == 0

        await admin.execute(f'DROP TRIGGER refuse_insert ON "{db_schema}".outbox')
        assert (await desk.client.post("/applications", json=body)).status_code == 422
        assert await admin.fetchval(f'SELECT count(*) FROM "{db_schema}".refusals') == 1
        assert await admin.fetchval(f'SELECT count(*) FROM "{db_schema}".outbox') == 1
    finally:
        await admin.close()
    assert [e.type for e in await desk.published(1)] == ["application.refused"]
