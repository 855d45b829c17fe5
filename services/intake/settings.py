"""The intake stage's settings (``TUNTAS_INTAKE_*``) and its connections (shared names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from schemas.topics import EVENT_PARTITIONS
from services.runtime.settings import Connections, RuntimeKnobs

MB = 1024 * 1024


class IntakeSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(env_prefix="TUNTAS_INTAKE_", frozen=True, extra="ignore")

    http_port: int = 8101
    connections: Connections = Field(default_factory=Connections)
    # Uploads (KK scans, signed receipts): PDF, JPEG or PNG up to this size.
    max_upload_bytes: int = 5 * MB
    # A KK photocopy handed in must come with its scan (upload or base64).
    require_kk_scan: bool = True
    # Region reference data (code,level,name,verified CSV); default: the packaged Lumajang list.
    regions_file: Path | None = None
    # Working days the service standard promises (1: "1 hari kerja").
    service_working_days: int = 1
    topic_partitions: int = EVENT_PARTITIONS
