"""The envelope every Kafka message travels in, and its JSON round trip.

``parse_event(raw) -> Envelope`` and ``Envelope.to_bytes()``. Anything that cannot be parsed
raises :class:`InvalidEvent` (or its subclass :class:`UnknownEventType`); the message says what
is wrong and where, never the offending value, so it can go to a dead-letter topic and a log
as is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID, uuid4

from pydantic import (
    AwareDatetime,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.base import Contract, Service
from schemas.events import EVENT_TYPES, EventPayload
from schemas.values import InvalidValue, KecamatanCode, mask_niks_in


class InvalidEvent(ValueError):
    """A message that cannot be read. ``problems`` are (field path, what is wrong) pairs."""

    def __init__(self, summary: str, problems: tuple[tuple[str, str], ...] = ()) -> None:
        detail = "; ".join(f"{path}: {what}" if path else what for path, what in problems)
        super().__init__(mask_niks_in(f"{summary}: {detail}" if detail else summary))
        self.problems = problems


class UnknownEventType(InvalidEvent):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type[:100]!r}", (("type", "not registered"),))
        self.event_type = event_type


class _Header(Contract):
    message_id: UUID
    type: str = Field(min_length=1, max_length=100)
    schema_version: int = Field(ge=1)  # the payload's version as written
    occurred_at: AwareDatetime  # stored in UTC
    producer: Service
    correlation_id: UUID  # the application id (for stock events: see topics.STOCK)
    causation_id: UUID | None = None  # message id of the event that caused this one
    kecamatan: KecamatanCode  # the office the application belongs to

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class Envelope(_Header):
    payload: SerializeAsAny[EventPayload]

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Self:
        model = EVENT_TYPES.get(self.type)
        if model is None:
            raise ValueError(f"unknown event type {self.type[:100]!r}")
        if not isinstance(self.payload, model):
            raise ValueError(f"payload of a {self.type} event must be a {model.__name__}")
        return self

    @property
    def application_id(self) -> UUID:
        return self.correlation_id

    @classmethod
    def new(
        cls,
        payload: EventPayload,
        *,
        application_id: UUID,
        kecamatan: str,
        causation_id: UUID | None = None,
        occurred_at: datetime | None = None,
        message_id: UUID | None = None,
    ) -> Envelope:
        """Wrap a payload; type, version and producer come from the payload's class."""
        return cls(
            message_id=message_id or uuid4(),
            type=payload.event_type,
            schema_version=payload.version,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=payload.producer,
            correlation_id=application_id,
            causation_id=causation_id,
            kecamatan=kecamatan,
            payload=payload,
        )

    def caused(
        self,
        payload: EventPayload,
        *,
        occurred_at: datetime | None = None,
        message_id: UUID | None = None,
    ) -> Envelope:
        """The next event of the same application, caused by this one."""
        return Envelope.new(
            payload,
            application_id=self.correlation_id,
            kecamatan=self.kecamatan,
            causation_id=self.message_id,
            occurred_at=occurred_at,
            message_id=message_id,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class _RawEnvelope(_Header):
    payload: dict[str, Any]


def parse_event(raw: bytes) -> Envelope:
    """Read one message. Raises :class:`InvalidEvent` / :class:`UnknownEventType`."""
    try:
        data = json.loads(raw.decode("utf-8"))  # no encoding sniffing: messages are UTF-8
    except UnicodeDecodeError as e:
        raise InvalidEvent(
            "message is not UTF-8", (("", f"{e.reason} at byte {e.start}"),)
        ) from None
    except json.JSONDecodeError as e:
        raise InvalidEvent(
            "message is not valid JSON", (("", f"{e.msg} at line {e.lineno} column {e.colno}"),)
        ) from None
    if not isinstance(data, dict):
        raise InvalidEvent("message is not a JSON object", (("", type(data).__name__),))
    event_type = data.get("type")
    if isinstance(event_type, str) and event_type not in EVENT_TYPES:
        raise UnknownEventType(event_type)
    summary = f"invalid {event_type} event" if isinstance(event_type, str) else "invalid event"
    try:
        header = _RawEnvelope.model_validate(data)
    except ValidationError as e:
        raise InvalidEvent(summary, _problems(e)) from None
    model = EVENT_TYPES[header.type]
    try:
        payload = model.model_validate(header.payload)
    except ValidationError as e:
        raise InvalidEvent(summary, _problems(e, prefix="payload")) from None
    return Envelope.model_validate({**header.model_dump(exclude={"payload"}), "payload": payload})


def _problems(error: ValidationError, *, prefix: str = "") -> tuple[tuple[str, str], ...]:
    found = []
    for err in error.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
        cause = (err.get("ctx") or {}).get("error")
        found.append((path, cause.message_en if isinstance(cause, InvalidValue) else err["msg"]))
    return tuple(found)
