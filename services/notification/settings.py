"""Notification settings (``TUNTAS_NOTIFICATION_*``): SMSC, reminder schedule, offices."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from schemas.regions import lumajang
from schemas.values import RegionLevel
from schemas.workdays import OfficeHours
from services.notification.sms.client import SmppConfig
from services.notification.sms.templates import Language
from services.runtime.settings import Connections, RuntimeKnobs


class ReminderChannel(StrEnum):
    SMS = "sms"
    PHONE_CALL = "phone_call"


class ReminderStep(BaseModel):
    """Contact the applicant ``after_working_days`` after the card became ready."""

    model_config = ConfigDict(frozen=True)

    after_working_days: int = Field(ge=1)
    channel: ReminderChannel


DEFAULT_STEPS = (
    ReminderStep(after_working_days=1, channel=ReminderChannel.SMS),
    ReminderStep(after_working_days=3, channel=ReminderChannel.PHONE_CALL),
    ReminderStep(after_working_days=7, channel=ReminderChannel.PHONE_CALL),
)


class ReminderSchedule(BaseModel):
    """The uncollected-card schedule: ``steps`` in order, then ``repeat_channel`` every
    ``repeat_every_working_days`` after the last step, until the card is collected."""

    model_config = ConfigDict(frozen=True)

    steps: tuple[ReminderStep, ...] = DEFAULT_STEPS
    repeat_every_working_days: int = Field(default=22, ge=1)
    repeat_channel: ReminderChannel = ReminderChannel.PHONE_CALL


_WEEKDAYS_ID = {1: "Senin", 2: "Selasa", 3: "Rabu", 4: "Kamis", 5: "Jumat", 6: "Sabtu", 7: "Minggu"}


class OfficeInfo(BaseModel):
    """One kecamatan office as applicants see it. Defaults are placeholders to configure."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: str = ""
    hours: OfficeHours = Field(default_factory=OfficeHours)
    hours_text: str = ""  # shown in SMS; derived from ``hours`` when empty
    survey_url: str = "https://lumajangkab.go.id/ikm"

    def display_hours(self) -> str:
        if self.hours_text:
            return self.hours_text
        groups: list[tuple[list[int], tuple[time, time]]] = []
        for day in sorted(self.hours.weekly):
            span = self.hours.weekly[day]
            if groups and groups[-1][1] == span and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], span))
        parts = []
        for days, (opens, closes) in groups:
            label = _WEEKDAYS_ID[days[0]]
            if len(days) > 1:
                label += f"-{_WEEKDAYS_ID[days[-1]]}"
            parts.append(f"{label} {opens:%H.%M}-{closes:%H.%M}")
        return ", ".join(parts)


def lumajang_offices() -> dict[str, OfficeInfo]:
    """One office per kecamatan of Kabupaten Lumajang, Monday-Friday 08:00-16:00 WIB."""
    return {
        r.code: OfficeInfo(
            name=f"Kantor Kecamatan {r.name}",
            address=f"Kantor Kecamatan {r.name}, Kabupaten Lumajang",
        )
        for r in lumajang().children("3508", RegionLevel.KABUPATEN)
    }


class NotificationSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(
        env_prefix="TUNTAS_NOTIFICATION_", frozen=True, extra="ignore", env_nested_delimiter="__"
    )

    connections: Connections = Field(default_factory=Connections)
    http_port: int = 8105

    # SMSC (SMPP 3.4)
    smsc_host: str = "127.0.0.1"
    smsc_port: int = 2775
    smsc_system_id: str = "tuntas"
    smsc_password: str = "secret"
    smsc_system_type: str = ""
    smsc_source_addr: str = "DUKCAPIL"
    smsc_rate_per_s: float = 10.0
    smsc_max_attempts: int = 3  # per submit inside one send (client-level retry)
    smsc_backoff_base_s: float = 0.5
    smsc_backoff_max_s: float = 30.0

    # Delivery bookkeeping
    language: Language = Language.ID
    send_max_attempts: int = 8  # sends of one SMS before it is marked failed
    send_retry_base_s: float = 30.0
    send_retry_max_s: float = 3600.0
    send_lease_s: float = 120.0
    sender_poll_s: float = 1.0

    # Uncollected cards
    reminders: ReminderSchedule = Field(default_factory=ReminderSchedule)
    scheduler_poll_s: float = 30.0

    # Offices (per kecamatan code, 6 digits); unknown kecamatan use ``default_office``
    offices: dict[str, OfficeInfo] = Field(default_factory=lumajang_offices)
    default_office: OfficeInfo = Field(default_factory=lambda: OfficeInfo(name="Kantor Kecamatan"))

    # Status timeline / SLA (faust)
    timeline_enabled: bool = True
    sla_working_days: int = 1
    sla_check_s: float = 30.0

    def office(self, kecamatan: str) -> OfficeInfo:
        return self.offices.get(kecamatan, self.default_office)

    def smpp(self) -> SmppConfig:
        return SmppConfig(
            host=self.smsc_host,
            port=self.smsc_port,
            system_id=self.smsc_system_id,
            password=self.smsc_password,
            system_type=self.smsc_system_type,
            source_addr=self.smsc_source_addr,
            rate_per_s=self.smsc_rate_per_s,
            max_attempts=self.smsc_max_attempts,
            backoff_base_s=self.smsc_backoff_base_s,
            backoff_max_s=self.smsc_backoff_max_s,
        )
