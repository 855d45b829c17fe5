"""The one base model of every contract: immutable, and tolerant of fields it does not know."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Frozen, so a parsed message is a value; ``extra="ignore"`` so a reader built against
    an older version survives messages from a newer writer that added fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Service(StrEnum):
    """The stages; every event names the one that produced it."""

    INTAKE = "intake"
    VALIDATION = "validation"
    BIOMETRIC = "biometric"
    CARD_PRODUCTION = "card_production"
    NOTIFICATION = "notification"
    SERVICE_QUALITY = "service_quality"  # complaints, IKM survey, monthly report
    ABIS = "abis"  # the 1:N identification system behind biometric (docs/abis.md)
