"""Settings of the ABIS service (``TUNTAS_ABIS_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import Connections, RuntimeKnobs

SERVICE = "abis"
DEFAULT_HTTP_PORT = 8107


class AbisSettings(RuntimeKnobs):
    model_config = SettingsConfigDict(
        env_prefix="TUNTAS_ABIS_", frozen=True, extra="ignore", populate_by_name=True
    )

    connections: Connections = Field(default_factory=Connections)
    http_port: int = DEFAULT_HTTP_PORT

    # The gallery key (AES-256, base64) sealing templates at rest, or a file holding it.
    # Neither set: a key file generated under TUNTAS_HOME when `generate_gallery_key` (local).
    gallery_key: SecretStr | None = None
    gallery_key_file: Path | None = None
    generate_gallery_key: bool = True
    home: Path = Field(default=Path(".tuntas"), validation_alias="TUNTAS_HOME")

    # An insert's reference URL must start with one of these (comma-separated): the ABIS
    # fetches biometric data only from the registration side it serves.
    reference_url_prefixes: str = "http://127.0.0.1:,http://localhost:"
    fetch_timeout_s: float = Field(default=10.0, gt=0)
    # The ABIS fetches references with its own machine token (client credentials at
    # TUNTAS_OIDC_ISSUER); the secret from a file (district IT hands it over) or env.
    oidc_client_id: str = "svc-abis"
    oidc_client_secret: str = ""
    oidc_client_secret_file: str = ""

    # Several instances share one gallery: each reads the others' inserts and deletes before
    # every identify, and on this timer between them (so that catch-up stays small).
    follow_interval_s: float = Field(default=2.0, gt=0)

    # HNSW search breadth: higher finds more true mates at more cost per search.
    ef_search: int = Field(default=128, ge=16, le=1024)

    def prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.reference_url_prefixes.split(",") if p.strip())

    @property
    def schema_name(self) -> str:
        return self.db_schema or SERVICE
