"""The console's settings (``TUNTAS_CONSOLE_*``); the IdP from ``TUNTAS_OIDC_ISSUER`` as the
stages read it, and the stages by address."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import Connections, RuntimeKnobs


class ConsoleSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(env_prefix="TUNTAS_CONSOLE_", frozen=True, extra="ignore")

    http_port: int = 8100
    connections: Connections = Field(default_factory=Connections)
    # The OIDC client staff log in through (docs/identity.md: public, PKCE). A confidential
    # client in production: its secret from a file (never in the repository) or the env.
    client_id: str = "tuntas-console"
    client_secret: str = ""
    client_secret_file: str = ""
    # Signs the session cookie; a random one per process when unset (a restart logs staff out).
    session_secret: str = ""
    session_secret_file: str = ""
    # Sends the cookie over HTTPS only; off for the loopback stack.
    secure_cookie: bool = False
    # The stages' APIs.
    intake_url: str = "http://127.0.0.1:8101"
    validation_url: str = "http://127.0.0.1:8102"
    biometric_url: str = "http://127.0.0.1:8103"
    notification_url: str = "http://127.0.0.1:8105"
    # Each office's card station (kecamatan code → URL); the local stack's first is Tempeh's.
    station_urls: dict[str, str] = Field(
        default_factory=lambda: {"350805": "http://127.0.0.1:8110"}
    )
    # Each office's time zone (kecamatan code → IANA name); others use the default.
    time_zones: dict[str, str] = Field(default_factory=dict)
    default_time_zone: str = "Asia/Jakarta"
    # Read-only nudges from the pipeline's topics (false: queues refresh on load only).
    live: bool = True
    # The dashboard's figures (camat, district admin).
    service_quality_url: str = "http://127.0.0.1:8106"

    def secret_of_client(self) -> str:
        if self.client_secret_file:
            return Path(self.client_secret_file).read_text().strip()
        return self.client_secret
