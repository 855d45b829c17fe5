"""Settings of the validation stage (``TUNTAS_VALIDATION_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import Connections, RuntimeKnobs

SERVICE = "validation"


class ValidationSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(env_prefix="TUNTAS_VALIDATION_", frozen=True, extra="ignore")

    connections: Connections = Field(default_factory=Connections)
    http_port: int = 8102
    # Policy: approve an item with no findings at once, without the section head
    # (off by default; the demo and the benchmark turn it on). The decision records it.
    auto_approve: bool = False
    auto_approve_staff_id: str = Field(
        default="auto.validation", pattern=r"^[A-Za-z0-9._@-]{1,64}$"
    )
    group_id: str = ""  # default: "<topic prefix>validation"

    @property
    def schema_name(self) -> str:
        return self.db_schema or SERVICE

    @property
    def consumer_group(self) -> str:
        return self.group_id or f"{self.connections.tuntas_topic_prefix}{SERVICE}"
