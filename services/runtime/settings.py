"""Settings: where Kafka and PostgreSQL are (shared names), and each service's own knobs.

The connections use the shared, unprefixed names every tool knows (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, ``TUNTAS_TOPIC_PREFIX``). Each service's own settings class adds its knobs
under its own prefix (``TUNTAS_INTAKE_``, …) and holds a ``Connections``.

Who the process is (docs/identity.md): its Kafka principal (``KAFKA_SASL_USERNAME`` with
``KAFKA_SASL_PASSWORD_FILE`` or ``KAFKA_SASL_PASSWORD``; unset: PLAINTEXT, no principal) and
its database login role, the user in ``DATABASE_URL`` (password from ``PGPASSFILE`` or
``PGPASSWORD``, as libpq reads them). ``DATABASE_OWNER_URL``, when set, is the role that owns
the schema and runs the migrations; ``DATABASE_URL``'s role then only gets table privileges.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Connections(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:39092"
    database_url: str = "postgresql://postgres@127.0.0.1:35432/tuntas"
    # Lets tests and parallel deployments share one cluster without sharing topics.
    tuntas_topic_prefix: str = ""
    database_owner_url: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_sasl_password_file: str = ""

    def kafka_password(self) -> str:
        """The SCRAM password: from its file when one is named (a secret is never in the repo)."""
        if self.kafka_sasl_password_file:
            return Path(self.kafka_sasl_password_file).read_text().strip()
        return self.kafka_sasl_password


class RuntimeKnobs(BaseSettings):
    """Knobs every service has; each service subclasses it with its own env prefix."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    batch_size: int = 500
    http_host: str = "127.0.0.1"
    http_port: int = 0  # 0: any free port (tests); each stage sets its local default
    log_level: str = "INFO"
    db_schema: str = ""  # default: the service's name
