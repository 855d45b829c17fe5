"""The whole local stack: which components to start, where their data lives, how to reach them.

Everything lives under one folder (``TUNTAS_HOME``, default ``./.tuntas``) the user can wipe;
the Kafka jars are cached beside it in ``TUNTAS_CACHE`` (default ``~/.cache/tuntas``) so a wipe
does not mean a re-download. A component given by the environment (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, ``TUNTAS_OIDC_ISSUER``) is used as is and nothing is started for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tuntas.stack.kafka import KafkaNode
from tuntas.stack.keycloak import KeycloakNode
from tuntas.stack.postgres import PostgresNode


@dataclass(frozen=True)
class StackConfig:
    home: Path
    cache: Path
    kafka_port: int = 39092
    controller_port: int = 39093
    # The services' SASL/SCRAM listener; None: PLAINTEXT only and no per-service identities
    # (a stack built by hand, e.g. the tests' own).
    kafka_sasl_port: int | None = None
    pg_port: int = 35432
    keycloak_port: int | None = None  # None: no identity provider (e.g. the tests' own stack)
    external_kafka: str | None = None
    external_db: str | None = None
    external_oidc: str | None = None
    # 3: a KRaft cluster of three combined nodes (replication 3, min.insync.replicas 2), node
    # i's three ports those of node 1 plus 3·i; its folders are kafka-cluster/node-<id>.
    kafka_nodes: int = 1
    # The card stations' listener (node i: this + 2·(i-1)) and the link port it advertises
    # (+1), where a proxy must stand: set by the chaos run, which delays that link.
    kafka_station_port: int | None = None

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        return cls(
            home=Path(env.get("TUNTAS_HOME", ".tuntas")).resolve(),
            cache=Path(env.get("TUNTAS_CACHE", Path.home() / ".cache" / "tuntas")).resolve(),
            kafka_port=int(env.get("TUNTAS_KAFKA_PORT", "39092")),
            controller_port=int(env.get("TUNTAS_KAFKA_CONTROLLER_PORT", "39093")),
            kafka_sasl_port=int(env.get("TUNTAS_KAFKA_SASL_PORT", "39094")),
            pg_port=int(env.get("TUNTAS_PG_PORT", "35432")),
            keycloak_port=int(env.get("TUNTAS_KEYCLOAK_PORT", "38080")),
            external_kafka=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            external_db=env.get("DATABASE_URL") or None,
            external_oidc=env.get("TUNTAS_OIDC_ISSUER") or None,
            kafka_nodes=int(env.get("TUNTAS_KAFKA_NODES", "1")),
            kafka_station_port=int(env["TUNTAS_KAFKA_STATION_PORT"])
            if env.get("TUNTAS_KAFKA_STATION_PORT")
            else None,
        )

    def kafka(self) -> KafkaNode:
        """The first node (the only one unless ``kafka_nodes`` > 1)."""
        return self.kafka_cluster()[0]

    def kafka_cluster(self) -> list[KafkaNode]:
        if self.kafka_nodes == 1:
            return [
                KafkaNode(
                    self.home / "kafka",
                    self.cache,
                    self.kafka_port,
                    self.controller_port,
                    sasl_port=self.kafka_sasl_port,
                    station_port=self._station_port(1),
                    station_link_port=self._station_port(1, link=True),
                )
            ]
        ids = range(1, self.kafka_nodes + 1)
        sasl = self.kafka_sasl_port
        voters = tuple(f"{i}@127.0.0.1:{self.controller_port + 3 * (i - 1)}" for i in ids)
        return [
            KafkaNode(
                self.home / "kafka-cluster" / f"node-{i}",
                self.cache,
                self.kafka_port + 3 * (i - 1),
                self.controller_port + 3 * (i - 1),
                heap="384m",
                sasl_port=None if sasl is None else sasl + 3 * (i - 1),
                node_id=i,
                voters=voters,
                station_port=self._station_port(i),
                station_link_port=self._station_port(i, link=True),
            )
            for i in ids
        ]

    def _station_port(self, node_id: int, link: bool = False) -> int | None:
        if self.kafka_station_port is None:
            return None
        return self.kafka_station_port + 2 * (node_id - 1) + int(link)

    def kafka_bootstrap(self) -> str:
        return self.external_kafka or ",".join(n.bootstrap for n in self.kafka_cluster())

    def postgres(self) -> PostgresNode:
        return PostgresNode(self.home / "postgres", self.pg_port)

    def keycloak(self) -> KeycloakNode | None:
        """The local Keycloak to run, if any: none when the IdP is external or not wanted."""
        if self.external_oidc or self.keycloak_port is None:
            return None
        return KeycloakNode(self.home / "keycloak", self.cache, self.keycloak_port)

    def oidc_issuer(self) -> str | None:
        keycloak = self.keycloak()
        return self.external_oidc or (keycloak.issuer if keycloak else None)


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str
    oidc_issuer: str | None = None
    # Set only for the local stack's own broker and server, where `tuntas.stack.principals`
    # can create a principal, ACLs and a database role per process: the SCRAM listener (None
    # when the broker has none) and the folder of generated secrets.
    kafka_sasl_bootstrap: str | None = None
    # The card stations' listener, through the link proxy (None: they use the SCRAM one).
    kafka_station_bootstrap: str | None = None
    secrets: Path | None = None
    replication_factor: int = 1  # of the topics the services create (3 on a local cluster)

    def as_env(self) -> dict[str, str]:
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "DATABASE_URL": self.database_url}
        if self.replication_factor != 1:
            env["TUNTAS_REPLICATION_FACTOR"] = str(self.replication_factor)
        if self.oidc_issuer:
            env["TUNTAS_OIDC_ISSUER"] = self.oidc_issuer
        return env


def up(config: StackConfig, identity: bool = False) -> Endpoints:
    """Start what is not external; return where everything is. Idempotent.

    Keycloak only with ``identity`` (``tuntas stack up``): the stages do not verify tokens yet,
    so the demo, the bench and ``tuntas up`` need not wait for it.
    """
    if not config.external_kafka:
        for node in config.kafka_cluster():
            node.launch()
    keycloak = config.keycloak() if identity else None
    if keycloak:
        keycloak.launch()  # the slowest to start: it boots while PostgreSQL does
    if not config.external_db:
        config.postgres().start()
    if not config.external_kafka:
        for node in config.kafka_cluster():
            node.wait_ready()
    if keycloak:
        keycloak.wait_ready()
    return Endpoints(
        config.kafka_bootstrap(),
        config.external_db or config.postgres().dsn,
        config.oidc_issuer() if identity else None,
        kafka_sasl_bootstrap=None if config.external_kafka else config.kafka().sasl_bootstrap,
        kafka_station_bootstrap=None if config.external_kafka else config.kafka().station_bootstrap,
        secrets=None if config.external_db else config.home / "secrets",
        replication_factor=1 if config.external_kafka else config.kafka().replication[0],
    )


def down(config: StackConfig) -> list[str]:
    stopped = []
    if not config.external_kafka:
        nodes = config.kafka_cluster()
        stopped += [f"kafka-{n.node_id}" if len(nodes) > 1 else "kafka" for n in nodes if n.stop()]
    if not config.external_db and config.postgres().stop():
        stopped.append("postgres")
    keycloak = config.keycloak()
    if keycloak and keycloak.stop():
        stopped.append("keycloak")
    return stopped


def status(config: StackConfig) -> dict[str, str]:
    def state(external: str | None, running: bool, where: str) -> str:
        if external:
            return f"external {external}"
        return f"running {where}" if running else "stopped"

    kafka, pg, keycloak = config.kafka(), config.postgres(), config.keycloak()
    states = {
        "kafka": state(config.external_kafka, kafka.is_running(), config.kafka_bootstrap()),
        "postgres": state(config.external_db, pg.is_running(), pg.dsn),
    }
    if config.external_oidc or keycloak:
        running = keycloak is not None and keycloak.is_running()
        states["identity"] = state(config.external_oidc, running, config.oidc_issuer() or "")
    return states
