"""Settings: where Kafka and PostgreSQL are (shared names), and each service's own knobs.

The connections use the shared, unprefixed names every tool knows (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, ``TUNTAS_TOPIC_PREFIX``). Each service's own settings class adds its knobs
under its own prefix (``TUNTAS_INTAKE_``, …) and holds a ``Connections``.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Connections(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:39092"
    database_url: str = "postgresql://postgres@127.0.0.1:35432/tuntas"
    # Lets tests and parallel deployments share one cluster without sharing topics.
    tuntas_topic_prefix: str = ""


class RuntimeKnobs(BaseSettings):
    """Knobs every service has; each service subclasses it with its own env prefix."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    batch_size: int = 500
    http_host: str = "127.0.0.1"
    http_port: int = 0  # 0: any free port (tests); each stage sets its local default
    log_level: str = "INFO"
    db_schema: str = ""  # default: the service's name
