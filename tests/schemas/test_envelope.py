import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.envelope import Envelope, InvalidEvent, UnknownEventType, parse_event
from schemas.events import EVENT_TYPES, ApplicationAccepted, CardSpoiled, SpoilReason, StockLow
from schemas.samples import APPLICATION_ID, sample_envelope


def raw_of(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_envelope(event_type).to_bytes())
    return data


def dump(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_round_trip_of_every_event_type(event_type: str) -> None:
    envelope = sample_envelope(event_type)
    parsed = parse_event(envelope.to_bytes())
    assert parsed == envelope
    assert type(parsed.payload) is EVENT_TYPES[event_type]
    assert parsed.to_bytes() == envelope.to_bytes()


def test_new_takes_type_version_and_producer_from_the_payload() -> None:
    envelope = Envelope.new(
        StockLow(blanks_available=3, threshold=10),
        application_id=APPLICATION_ID,
        kecamatan="35.08.05",
    )
    assert (envelope.type, envelope.schema_version, envelope.producer.value) == (
        "stock.low",
        1,
        "card_production",
    )
    assert envelope.kecamatan == "350805"
    assert envelope.application_id == APPLICATION_ID
    assert envelope.occurred_at.tzinfo is UTC


def test_caused_event_keeps_the_application_and_points_at_its_cause() -> None:
    first = sample_envelope("card.printed")
    second = first.caused(CardSpoiled(reason=SpoilReason.PRINT_DEFECT))
    assert (second.correlation_id, second.kecamatan, second.causation_id) == (
        first.correlation_id,
        first.kecamatan,
        first.message_id,
    )
    assert second.message_id != first.message_id


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Envelope.new(
            StockLow(blanks_available=3, threshold=10),
            application_id=uuid4(),
            kecamatan="350805",
            occurred_at=datetime(2025, 1, 6, 9, 0),
        )
    data = raw_of("stock.low") | {"occurred_at": "2025-01-06T09:00:00"}
    with pytest.raises(InvalidEvent, match="occurred_at"):
        parse_event(dump(data))


def test_occurred_at_is_stored_in_utc() -> None:
    wib = timezone(timedelta(hours=7))
    data = raw_of("stock.low") | {"occurred_at": "2025-01-06T09:00:00+07:00"}
    parsed = parse_event(dump(data))
    assert parsed.occurred_at == datetime(2025, 1, 6, 9, 0, tzinfo=wib)
    assert parsed.occurred_at.utcoffset() == timedelta(0)
    assert json.loads(parsed.to_bytes())["occurred_at"] == "2025-01-06T02:00:00Z"


def test_unknown_type() -> None:
    data = raw_of("stock.low") | {"type": "card.teleported"}
    with pytest.raises(UnknownEventType, match=r"card\.teleported") as e:
        parse_event(dump(data))
    assert e.value.event_type == "card.teleported"
    assert isinstance(e.value, InvalidEvent)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"{not json", "not valid JSON: .*line 1 column 2"),
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "not a JSON object: list"),
        (b"{}", "message_id: Field required.*type: Field required"),
        (b'{"type": 7}', "type: Input should be a valid string"),
    ],
)
def test_malformed_messages_say_what_is_wrong(raw: bytes, match: str) -> None:
    with pytest.raises(InvalidEvent, match=match):
        parse_event(raw)


def test_invalid_payload_names_the_field_and_never_shows_the_nik() -> None:
    data = raw_of("application.accepted")
    data["payload"]["applicant"]["nik"] = "350805410785000"  # 15 digits
    data["payload"]["applicant"]["birth_date"] = "not a date"
    data["payload"]["documents"]["police_report"]["number"] = "3508054107850001"
    data["payload"]["documents"]["police_report"]["issuing_station"] = ""
    with pytest.raises(InvalidEvent) as e:
        parse_event(dump(data))
    message = str(e.value)
    assert message.startswith("invalid application.accepted event: ")
    assert "payload.applicant.nik: NIK must have 16 digits, not 15" in message
    assert "payload.applicant.birth_date: " in message
    assert "payload.documents.police_report.issuing_station" in message
    assert "350805410785000" not in message and "3508054107850001" not in message
    assert [path for path, _ in e.value.problems] == [
        "payload.applicant.nik",
        "payload.applicant.birth_date",
        "payload.documents.police_report.issuing_station",
    ]


def test_extra_fields_from_newer_writers_are_ignored() -> None:
    data = raw_of("card.spoiled")
    data["trace_parent"] = "00-abc"
    data["schema_version"] = 7
    data["payload"]["operator_id"] = "siak.tempeh"
    data["payload"]["photo_of_damage"] = {"store": "x"}
    parsed = parse_event(dump(data))
    assert parsed.schema_version == 7
    assert parsed.payload == sample_envelope("card.spoiled").payload
    assert "trace_parent" not in json.loads(parsed.to_bytes())


def test_envelope_fields_are_checked() -> None:
    for field, value, where in [
        ("kecamatan", "35.08", "kecamatan"),
        ("producer", "printer", "producer"),
        ("schema_version", 0, "schema_version"),
        ("message_id", "nope", "message_id"),
    ]:
        with pytest.raises(InvalidEvent, match=f"{where}: "):
            parse_event(dump(raw_of("stock.low") | {field: value}))


def test_payload_must_match_the_type() -> None:
    envelope = sample_envelope("stock.low")
    with pytest.raises(ValidationError, match="must be a StockLow"):
        Envelope.model_validate(
            {**envelope.model_dump(), "payload": CardSpoiled(reason=SpoilReason.OTHER)}
        )


def test_models_are_frozen() -> None:
    envelope = sample_envelope("application.accepted")
    with pytest.raises(ValidationError):
        envelope.kecamatan = "350801"  # type: ignore[misc]
    assert isinstance(envelope.payload, ApplicationAccepted)
    with pytest.raises(ValidationError):
        envelope.payload.revision = 2  # type: ignore[misc]
