"""IKM: the index and grade by hand, and the one-time survey link after a handover."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from schemas.events import CardCollected, SurveyInvited
from schemas.topics import Topics
from services.service_quality import ikm
from tests.kit.payloads import envelope
from tests.kit.topics import publish, read_events
from tests.service_quality.kit import running


def test_index_and_grade_of_a_hand_computed_set() -> None:
    responses = [
        [4, 4, 3, 4, 3, 4, 4, 3, 3],
        [3, 4, 3, 4, 3, 3, 4, 2, 3],
        [4, 3, 2, 4, 4, 3, 4, 3, 2],
        [3, 3, 3, 4, 3, 4, 3, 2, 3],
    ]
    # element means 3.5 3.5 2.75 4 3.25 3.5 3.75 2.5 2.75, sum 29.5;
    # index = 29.5 / 9 * 25 = 81.944… -> 81.94, band B (76.61-88.30) "Baik"
    result = ikm.index_of(responses)
    assert result is not None
    assert result.element_means == (3.5, 3.5, 2.75, 4.0, 3.25, 3.5, 3.75, 2.5, 2.75)
    assert result.index == 81.94 and (result.grade, result.quality) == ("B", "Baik")
    assert result.lowest == ("U8", "U3", "U9")
    assert ikm.index_of([]) is None
    with pytest.raises(ValueError):
        ikm.index_of([[5, 4, 4, 4, 4, 4, 4, 4, 4]])


@pytest.mark.parametrize(
    ("index", "grade"),
    [(100, "A"), (88.31, "A"), (88.30, "B"), (76.61, "B"), (76.60, "C"), (65.0, "C"),
     (64.99, "D"), (25, "D")],
)  # fmt: skip
def test_band_limits(index: float, grade: str) -> None:
    assert ikm.grade(index)[0] == grade


@pytest.mark.parametrize(
    ("population", "sample"), [(10, 10), (100, 80), (500, 217), (1000, 278), (100_000, 383)]
)
def test_minimum_sample_follows_the_krejcie_morgan_table(population: int, sample: int) -> None:
    assert ikm.minimum_sample(population) == sample


async def test_a_handover_sends_a_one_time_survey_link(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    topics = Topics(topic_prefix)
    async with running(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path) as sq:
        handed = envelope(CardCollected(receipt_reference="TT-1", officer_id="petugas.1"), uuid4())
        await publish(kafka_bootstrap, topics, handed, handed)  # re-delivered: one link
        invited = await read_events(kafka_bootstrap, topics.service_quality_events, 1)
        assert len(invited) == 1 and invited[0].causation_id == handed.message_id
        payload = invited[0].payload
        assert isinstance(payload, SurveyInvited)
        path = "/survey/" + payload.survey_url.rsplit("/", 1)[1]
        http = sq.served.http
        assert "U9" in (await http.get(path)).text
        answer = {"age": "34", "sex": "P", "education": "SMA", "occupation": "WIRAUSAHA"}
        answer |= {f"u{i}": "3" for i in range(1, 10)}
        bad = await http.post(path, data={**answer, "u4": "5"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "u4"]
        first = await http.post(path, data=answer)
        assert first.status_code == 201, first.text
        second = await http.post(path, data=answer)
        assert second.status_code == 409
        assert (await http.post("/survey/notalinkatall", data=answer)).status_code == 404
        month = handed.occurred_at.astimezone(sq.settings.office_hours.zone)
        report = (
            await http.get(
                "/reports/monthly", params={"kecamatan": "350805", "month": f"{month:%Y-%m}"}
            )
        ).json()
        assert report["survey"]["responses"] == 1 and report["survey"]["index"] == 75.0
        assert report["survey"]["grade"] == "C"
