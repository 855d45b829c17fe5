"""Two processes per stage in one consumer group (``topology.Options.processes``), and in the
middle of a run one process of each stage — and the single card station — SIGKILLed; the
supervisor restarts them and every application still ends exactly once (the bench's
effectively-once checks). Its own Kafka and PostgreSQL on free ports under a temporary home."""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import wait_for
from tuntas import topology
from tuntas.bench import pipeline
from tuntas.stack import local, prereq
from tuntas.supervisor import Supervisor

pytestmark = pytest.mark.timeout(420)
APPLICATIONS = 24
STATION = f"station-{topology.TEMPEH}"


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local.StackConfig]:
    config = local.StackConfig(
        home=Path(tmp_path_factory.mktemp("kills")),
        cache=local.StackConfig.from_env().cache,
        kafka_port=prereq.free_port(),
        controller_port=prereq.free_port(),
        pg_port=prereq.free_port(),
    )
    try:
        local.up(config)
        yield config
    finally:
        local.down(config)


def _partitions(supervisor: Supervisor, name: str) -> set[str]:
    return set(supervisor.states[name].health.get("lag_by_partition", {}))


async def _both_assigned(supervisor: Supervisor, stage: str) -> None:
    """One consumer group: the stage's two processes each hold some of its partitions."""
    first, second = stage, topology.process_name(stage, 2)
    await wait_for(
        lambda: _partitions(supervisor, first) and _partitions(supervisor, second),
        timeout=60,
        what=f"{stage}'s two processes each assigned partitions",
    )
    assert not _partitions(supervisor, first) & _partitions(supervisor, second)


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

    async def kill_one_of_each(supervisor: Supervisor) -> None:
        for stage in topology.SCALABLE:
            await _both_assigned(supervisor, stage)
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
    assert [s.handed_on for s in result.stages] == [APPLICATIONS] * 5
    assert len(result.checks) == 13 and all("each application once" in c for c in result.checks)
    assert any("card-ready SMS queued" in c for c in result.checks)
