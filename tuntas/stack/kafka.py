"""Apache Kafka in KRaft mode from the Maven Central jars: one combined broker/controller, or a
cluster of such nodes (``voters``: replication 3, min.insync.replicas 2 from three nodes on)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from tuntas.stack import prereq, procs
from tuntas.stack.errors import StackError
from tuntas.stack.java import JavaNode, mvn_into_staging, pinned_version

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"


def kafka_version() -> str:
    return pinned_version(POM, "kafka")


def ensure_jars(cache_dir: Path) -> Path:
    """Fetch the broker's jars once into ``cache_dir/kafka-<version>/libs``; return that folder."""
    version = kafka_version()
    libs = cache_dir / f"kafka-{version}" / "libs"
    if (libs / f"kafka_2.13-{version}.jar").exists():
        return libs
    staging = mvn_into_staging(
        POM, "dependency:copy-dependencies", cache_dir, f"Kafka {version} jars"
    )
    libs.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)  # atomic: a half-fetched cache never looks complete
    return libs


_LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
"""


@dataclass(frozen=True)
class KafkaNode(JavaNode):
    PIDFILE = "kafka.pid"

    controller_port: int
    heap: str = "1g"  # a day of test runs creates thousands of partitions; 512m ran out
    # The SASL/SCRAM listener the services use; ``port`` stays PLAINTEXT for tools and tests.
    sasl_port: int | None = None
    node_id: int = 1
    # A cluster: every node's "id@127.0.0.1:controller_port"; empty: a lone node.
    voters: tuple[str, ...] = ()
    # The card stations' own SCRAM listener (with ``sasl_port``): the link from a kecamatan
    # office to the district's broker. It advertises ``station_link_port``, where the chaos
    # run's loopback proxy stands for that network and forwards to ``station_port``.
    station_port: int | None = None
    station_link_port: int | None = None

    @property
    def replication(self) -> tuple[int, int]:
        """(replication factor, min.insync.replicas) of the topics this node's cluster holds."""
        return (3, 2) if len(self.voters) >= 3 else (1, 1)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_bootstrap(self) -> str | None:
        """The SCRAM listener, if the broker was started with one (a broker started by an
        older version keeps its PLAINTEXT-only config until it is restarted)."""
        config = self.home / "server.properties"
        if self.sasl_port is None or not config.exists():
            return None
        wanted = f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}"
        return f"127.0.0.1:{self.sasl_port}" if wanted in config.read_text() else None

    @property
    def station_bootstrap(self) -> str | None:
        """Where the stations reach this broker (the link's port), if it has that listener."""
        config = self.home / "server.properties"
        if self.station_port is None or not config.exists():
            return None
        wanted = f"STATION://127.0.0.1:{self.station_port}"
        return f"127.0.0.1:{self.station_link_port}" if wanted in config.read_text() else None

    def start(self, timeout: float = 90.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 90.0) -> None:
        procs.wait_until(
            lambda: _metadata_answers(self.bootstrap), timeout, "Kafka", alive=self.is_running
        )

    def launch(self) -> None:
        """Start the process unless it runs (a cluster's nodes are all launched, then awaited:
        one alone has no quorum to answer with)."""
        if self.is_running():
            return
        java = prereq.require_java()
        prereq.require_disk(self.home)
        prereq.require_free_port(self.port, "Kafka")
        prereq.require_free_port(self.controller_port, "the Kafka controller")
        if self.sasl_port is not None:
            prereq.require_free_port(self.sasl_port, "Kafka's SASL listener")
        libs = ensure_jars(self.cache_dir)
        config = self._write_config()
        classpath = f"{libs}/*"
        data = self.home / "data"
        if not (data / "meta.properties").exists():
            self._format(java, classpath, config)
        procs.spawn(
            [
                java,
                f"-Xmx{self.heap}",
                f"-Xms{self.heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "-cp",
                classpath,
                "kafka.Kafka",
                str(config),
            ],
            self.pidfile,
            self.home / "stdout.log",
        )

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.properties").write_text(_LOG4J2.format(log=self.logfile))
        config = self.home / "server.properties"
        voters = ",".join(self.voters) or f"1@127.0.0.1:{self.controller_port}"
        replicas, min_isr = self.replication
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    f"controller.quorum.voters={voters}",
                    *self._listeners(),
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.home / 'data'}",
                    "num.partitions=6",
                    f"default.replication.factor={replicas}",
                    f"min.insync.replicas={min_isr}",
                    f"offsets.topic.replication.factor={replicas}",
                    "offsets.topic.num.partitions=10",
                    f"transaction.state.log.replication.factor={replicas}",
                    f"transaction.state.log.min.isr={min_isr}",
                    f"share.coordinator.state.topic.replication.factor={replicas}",
                    f"share.coordinator.state.topic.min.isr={min_isr}",
                    # A lone local node: rebalances need not wait for more members to join.
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    # The demo moves one service's clock days ahead (simulators/clock.py); a
                    # broker refuses records stamped over an hour ahead of its clock by default.
                    f"log.message.timestamp.after.max.ms={FUTURE_TIMESTAMPS_MS}",
                    "",
                ]
            )
        )
        return config

    def _listeners(self) -> list[str]:
        """PLAINTEXT on loopback for tools and tests (its ANONYMOUS principal is a super user),
        and, with ``sasl_port``, SASL_PLAINTEXT with SCRAM-SHA-512 for the services, whose
        principals hold only the ACLs ``tuntas.stack.principals`` generates."""
        plain = f"PLAINTEXT://127.0.0.1:{self.port}"
        controller = f"CONTROLLER://127.0.0.1:{self.controller_port}"
        if self.sasl_port is None:
            return [
                f"listeners={plain},{controller}",
                f"advertised.listeners={plain}",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            ]
        sasl = f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}"
        listen, advertised, protocols = f"{plain},{sasl}", f"{plain},{sasl}", ""
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        station: list[str] = []
        if self.station_port is not None:
            listen += f",STATION://127.0.0.1:{self.station_port}"
            link = self.station_link_port or self.station_port
            advertised += f",STATION://127.0.0.1:{link}"
            protocols = ",STATION:SASL_PLAINTEXT"
            station = [f"listener.name.station.scram-sha-512.sasl.jaas.config={scram}"]
        return [
            f"listeners={listen},{controller}",
            f"advertised.listeners={advertised}",
            "listener.security.protocol.map="
            f"PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT{protocols}",
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            f"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={scram}",
            *station,
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # The loopback PLAINTEXT and controller listeners authenticate nobody: ANONYMOUS.
            "super.users=User:ANONYMOUS",
            "allow.everyone.if.no.acl.found=false",
        ]

    def _format(self, java: str, classpath: str, config: Path) -> None:
        cluster_id = self._cluster_id()
        result = subprocess.run(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(config),
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed: {result.stderr.strip()[:200]}")

    def _cluster_id(self) -> str:
        """A lone node's own; a cluster's nodes share one, kept beside their folders."""
        if not self.voters:
            return _new_cluster_id()
        shared = self.home.parent / "cluster.id"
        if not shared.exists():
            shared.write_text(_new_cluster_id())
        return shared.read_text().strip()


FUTURE_TIMESTAMPS_MS = 30 * 24 * 3600 * 1000  # a month: the furthest the demo's clock moves


def _new_cluster_id() -> str:
    import base64

    # Like Kafka's own Uuid.randomUuid: an id starting with "-" reads as an option to the
    # storage tool (a usage error, one format in 64).
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _metadata_answers(bootstrap: str) -> bool:
    return asyncio.run(metadata_answers(bootstrap))


async def metadata_answers(bootstrap: str) -> bool:
    """ "Ready" means a metadata request is answered with at least one broker."""
    from aiokafka import AIOKafkaClient
    from aiokafka.errors import KafkaError

    # While the broker starts, aiokafka logs every refused connection; the caller reports.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await client.bootstrap()
        metadata = await client.fetch_all_metadata()
        return len(metadata.brokers()) > 0
    except (KafkaError, OSError):
        return False
    finally:
        await client.close()


def wait_ready(bootstrap: str, timeout: float) -> None:
    procs.wait_until(lambda: _metadata_answers(bootstrap), timeout, f"Kafka at {bootstrap}")
