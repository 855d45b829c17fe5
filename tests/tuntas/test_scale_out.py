"""The local stack's 3-node KRaft cluster (``TUNTAS_KAFKA_NODES=3``) on free ports under a
temporary TUNTAS_HOME: topics are replicated three times, and with one broker stopped in the
middle of a run every record written with ``acks=all`` is still read back exactly once. And
the bench's scale-out figures (``tuntas bench --scale-out``) from a run's results."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from services.runtime import kafka
from tuntas.stack import local
from tuntas.stack.local import StackConfig

pytestmark = pytest.mark.timeout(300)
Cluster = tuple[StackConfig, dict[str, str]]  # the stack's config and its env


def _free_base() -> int:
    """A base port whose nine cluster ports (node i: base + 3i, +1, +2) are all free.

    Below Linux's ephemeral range (32768–60999 by default): the nodes start one after the
    other, and a port in that range, free when probed, was once taken by an outgoing
    connection before the third node bound it (CI: "failed to bind to 127.0.0.1:42044")."""
    for base in range(21000, 32768 - 9, 37):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", base)) == 0:
                continue
        sockets = []
        try:
            for port in range(base, base + 9):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no nine free ports")


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StackConfig, dict[str, str]]]:
    base = _free_base()
    config = StackConfig(
        home=Path(tmp_path_factory.mktemp("cluster")),
        cache=Path.home() / ".cache" / "tuntas",
        kafka_port=base,
        controller_port=base + 1,
        kafka_sasl_port=base + 2,
        keycloak_port=None,
        external_db="postgresql://not-started",
        kafka_nodes=3,
    )
    try:
        yield config, local.up(config).as_env()
    finally:
        local.down(config)


async def test_a_broker_stopped_mid_run_loses_and_repeats_nothing(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, env = cluster
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap.count(",") == 2 and env["TUNTAS_REPLICATION_FACTOR"] == "3"
    monkeypatch.setenv("TUNTAS_REPLICATION_FACTOR", "3")
    await kafka.ensure_topics(bootstrap, [("applications", 3)])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics(["applications"])
    finally:
        await admin.close()
    assert all(len(p["replicas"]) == 3 for p in described["partitions"])

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for n in range(300):
            if n == 150:
                config.kafka_cluster()[2].stop()  # a broker (and a voter) gone mid-run
            await producer.send_and_wait("applications", str(n).encode(), key=str(n).encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        "applications", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        group_id="check", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    seen: list[int] = []
    try:
        while len(seen) < 300:
            batch = await consumer.getmany(timeout_ms=2000)
            assert batch or seen, "nothing read back"
            seen += [int(r.value) for records in batch.values() for r in records]
            if not batch:
                break
    finally:
        await consumer.stop()
    assert sorted(seen) == list(range(300))


def test_scale_out_figures_take_the_light_stages_and_their_processes() -> None:
    from tuntas.bench import pipeline, report, scale_out

    rates = {"intake": 9, "validation": 8, "biometric": 1, "card_production": 1, "notification": 1}
    stages = [pipeline.StageFigure(name, 10, rate, 0, 1) for name, rate in rates.items()]
    stages.append(pipeline.StageFigure("notification application.validated (in)", 10, 7, 0, 1))
    processes = [
        pipeline.ProcessFigure(name, cpu, 50)
        for name, cpu in [("intake", 1), ("intake-2", 2), ("biometric", 40), ("notification-2", 4)]
    ]
    result = pipeline.RunResult(
        pipeline.RunSpec(10, ("350805",)), "r", 1, 5, [], stages, processes, {}, 0, 500, 12,
        ["x: 10 rows, each application once"],
    )  # fmt: skip
    figures = scale_out.summary(2, 3, result)
    assert figures["light_stages_per_second"] == {"intake": 9, "validation": 8, "notification": 7}
    assert figures["light_stages_cpu_seconds"] == 7  # not biometric's 40
    assert figures["end_to_end_per_second"] == 2 and figures["effectively_once"]
    assert "2 proc 3 broker(s)" in scale_out.table([figures])
    assert "notification, 2 proc × 3 broker(s)" in report.svg({"scale_out": [figures]})
