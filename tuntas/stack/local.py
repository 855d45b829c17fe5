"""The whole local stack: which components to start, where their data lives, how to reach them.

Everything lives under one folder (``TUNTAS_HOME``, default ``./.tuntas``) the user can wipe;
the Kafka jars are cached beside it in ``TUNTAS_CACHE`` (default ``~/.cache/tuntas``) so a wipe
does not mean a re-download. A component given by the environment (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``) is used as is and nothing is started for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tuntas.stack.kafka import KafkaNode
from tuntas.stack.postgres import PostgresNode


@dataclass(frozen=True)
class StackConfig:
    home: Path
    cache: Path
    kafka_port: int = 39092
    controller_port: int = 39093
    pg_port: int = 35432
    external_kafka: str | None = None
    external_db: str | None = None

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        return cls(
            home=Path(env.get("TUNTAS_HOME", ".tuntas")).resolve(),
            cache=Path(env.get("TUNTAS_CACHE", Path.home() / ".cache" / "tuntas")).resolve(),
            kafka_port=int(env.get("TUNTAS_KAFKA_PORT", "39092")),
            controller_port=int(env.get("TUNTAS_KAFKA_CONTROLLER_PORT", "39093")),
            pg_port=int(env.get("TUNTAS_PG_PORT", "35432")),
            external_kafka=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            external_db=env.get("DATABASE_URL") or None,
        )

    def kafka(self) -> KafkaNode:
        return KafkaNode(self.home / "kafka", self.cache, self.kafka_port, self.controller_port)

    def postgres(self) -> PostgresNode:
        return PostgresNode(self.home / "postgres", self.pg_port)


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str

    def as_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "DATABASE_URL": self.database_url}


def up(config: StackConfig) -> Endpoints:
    """Start what is not external; return where everything is. Idempotent."""
    if config.external_kafka:
        bootstrap = config.external_kafka
    else:
        node = config.kafka()
        node.start()
        bootstrap = node.bootstrap
    if config.external_db:
        dsn = config.external_db
    else:
        pg = config.postgres()
        pg.start()
        dsn = pg.dsn
    return Endpoints(bootstrap, dsn)


def down(config: StackConfig) -> list[str]:
    stopped = []
    if not config.external_kafka and config.kafka().stop():
        stopped.append("kafka")
    if not config.external_db and config.postgres().stop():
        stopped.append("postgres")
    return stopped


def status(config: StackConfig) -> dict[str, str]:
    def state(external: str | None, running: bool, where: str) -> str:
        if external:
            return f"external {external}"
        return f"running {where}" if running else "stopped"

    kafka, pg = config.kafka(), config.postgres()
    return {
        "kafka": state(config.external_kafka, kafka.is_running(), kafka.bootstrap),
        "postgres": state(config.external_db, pg.is_running(), pg.dsn),
    }
