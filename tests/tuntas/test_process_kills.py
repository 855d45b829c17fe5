"""Two processes per stage in one consumer group (``topology.Options.processes``) on a 3-node
KRaft cluster (replication 3, min.insync.replicas 2), and in the middle of a run one broker
stopped and one process of each stage — and the single card station — SIGKILLed; the
supervisor restarts the processes and every application still ends exactly once (the bench's
effectively-once checks). Its own cluster and PostgreSQL on free ports under a temporary home."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from schemas.base import Service
from tests.waiting import wait_for
from tuntas import topology
from tuntas.bench import pipeline, scale_out
from tuntas.stack import local, prereq, principals
from tuntas.supervisor import Supervisor

pytestmark = pytest.mark.timeout(600)
APPLICATIONS = 24
STATION = f"station-{topology.TEMPEH}"


@pytest.fixture(scope="module")
def own_stack() -> Iterator[local.StackConfig]:
    # Not under pytest's basetemp: each pytest session starting on the machine makes its root
    # 0700 again, and the PostgreSQL server runs as its own user (tuntas.stack.postgres).
    home = Path(tempfile.mkdtemp(prefix="tuntas-kills-"))
    config = scale_out.cluster_config(
        local.StackConfig(
            home=home, cache=local.StackConfig.from_env().cache, pg_port=prereq.free_port()
        )
    )
    try:
        local.up(config)
        yield config
    finally:
        local.down(config)
        shutil.rmtree(home, ignore_errors=True)


async def _two_members(bootstrap: str, group: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    _, _, state, _, _, members = described.groups[0][:6]
    return state == "Stable" and len(members) == 2


async def _replica_counts(bootstrap: str) -> dict[str, set[int]]:
    """Each topic of the cluster → the numbers of replicas its partitions have."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(await admin.list_topics()))
    finally:
        await admin.close()
    return {t["topic"]: {len(p["replicas"]) for p in t["partitions"]} for t in described}


async def _one_group_of_two(supervisor: Supervisor, stage: str) -> None:
    """The stage's two processes are the two members of its one consumer group."""
    env = supervisor.states[stage].spec.env
    group = env["TUNTAS_TOPIC_PREFIX"] + principals.GROUPS[Service(stage)]
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    stable: bool = await wait_for(
        lambda: _two_members(bootstrap, group), timeout=60, what=f"{group}: two members"
    )
    assert stable


async def _restarted(supervisor: Supervisor, name: str, restarts: int) -> None:
    state = supervisor.states[name]
    await wait_for(
        lambda: state.restarts == restarts + 1 and state.health.get("status") == "ok",
        timeout=90,
        what=f"{name} restarted by the supervisor and healthy",
    )


async def test_one_process_of_each_stage_killed_mid_run_every_application_once(
    own_stack: local.StackConfig, oidc_issuer: str
) -> None:
    config = dataclasses.replace(own_stack, external_oidc=oidc_issuer)
    killed: dict[str, int] = {}
    stopped: list[int] = []
    replicas: dict[str, set[int]] = {}

    async def kill_one_of_each(supervisor: Supervisor) -> None:
        for stage in topology.SCALABLE:
            await _one_group_of_two(supervisor, stage)
        replicas.update(await _replica_counts(config.kafka_bootstrap()))
        broker = config.kafka_cluster()[2]
        await asyncio.to_thread(broker.stop)  # a broker and a controller voter gone for good
        stopped.append(broker.node_id)
        for name in [*topology.SCALABLE, STATION]:
            state = supervisor.states[name]
            killed[name] = state.restarts
            assert state.process is not None
            state.process.send_signal(signal.SIGKILL)
        for name, restarts in killed.items():
            await _restarted(supervisor, name, restarts)

    spec = pipeline.RunSpec(
        APPLICATIONS,
        (topology.TEMPEH,),
        port_offset=2300,
        stall_seconds=150,
        processes=topology.parse_processes("2"),
        midway=kill_one_of_each,
    )
    # pipeline.run raises EffectivelyOnceError on a lost or a repeated application anywhere
    result = await pipeline.run(spec, config, log=print)
    assert set(killed) == {*topology.SCALABLE, STATION}
    assert stopped == [3]
    # every topic, the run's and Kafka's own, on three brokers (not one: it stalled the run)
    assert len(replicas) > 40 and {n for counts in replicas.values() for n in counts} == {3}
    assert [s.handed_on for s in result.stages] == [APPLICATIONS] * 5
    assert len(result.checks) == 13 and all("each application once" in c for c in result.checks)
    assert any("card-ready SMS queued" in c for c in result.checks)


def test_processes_per_stage_get_their_own_ports_and_the_stage_s_settings() -> None:
    options = topology.Options(
        home=Path("/nonexistent"), processes=topology.parse_processes("validation=2")
    )
    endpoints = local.Endpoints("127.0.0.1:1", "postgresql://db")
    specs = {s.name: s for s in topology.processes(endpoints, options)}
    first, second = specs["validation"], specs["validation-2"]
    assert "intake-2" not in specs and "station-350805-2" not in specs
    assert first.env["TUNTAS_VALIDATION_HTTP_PORT"] == "8102"
    assert second.env["TUNTAS_VALIDATION_HTTP_PORT"] == "8202"
    assert second.health_url == "http://127.0.0.1:8202/health"
    assert {**second.env, "TUNTAS_VALIDATION_HTTP_PORT": "8102"} == first.env
    assert topology.urls("validation", options)[1] == "http://127.0.0.1:8202"
    assert topology.parse_processes("2") == dict.fromkeys(topology.SCALABLE, 2)
    assert topology.parse_processes("1") == dict.fromkeys(topology.SCALABLE, 1)
    for refused in ("abis=2", "card_production=2", "intake=5", "intake=0", "intake=x"):
        with pytest.raises(ValueError):
            topology.parse_processes(refused)
