"""Crash tests: the test stage, a real process, SIGKILLs itself at each dangerous line and is
started again. Every input must end up applied exactly once in the state, published as exactly
one event downstream (re-sends of that same event are counted), and its offset committed.

Kill timings come from a seeded RNG (``TUNTAS_CRASH_SEED``); ``make soak`` runs many more kills
(``TUNTAS_SOAK_KILLS`` per point) and prints how many were survived.
"""

from __future__ import annotations

import os
import random
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.runtime import crashpoints, kafka
from tests.runtime.proc_kit import Topology, assert_exactly_once

SEED = int(os.environ.get("TUNTAS_CRASH_SEED", "3"))
PER_ROUND = 100  # inputs produced before each (re)start: always fresh work to crash in
BATCH = 20
# The range of "the nth time the point is reached" that fresh work of one round always reaches:
# at least PER_ROUND / BATCH batches, relay batches and PER_ROUND handled messages.
NTH = {
    "mid_batch": (1, PER_ROUND - 10),
    "after_outbox_insert": (1, PER_ROUND // BATCH - 1),
    "after_db_commit": (1, PER_ROUND // BATCH - 1),
    "after_publish": (1, PER_ROUND // BATCH - 1),
}


@dataclass(frozen=True)
class Outcome:
    kills: int
    inputs: int
    resends: int


async def _kill_and_restart(topo: Topology, points: list[str], rng: random.Random) -> Outcome:
    await kafka.ensure_topics(topo.kafka, [(topo.src, 3), (topo.dst, 3), (topo.src + ".dlq", 1)])
    ids: list[str] = []
    kills = 0
    # Static membership: the restarted process takes its partitions back at once.
    extra = ["--instance-id", "stage-0"]
    for round_no, point in enumerate(points):
        ids += await topo.produce(PER_ROUND, f"round{round_no}")
        nth = rng.randint(*NTH[point])
        stage = await topo.start(crash_at=f"{point}:{nth}", extra=extra)
        code = await stage.exited()
        assert code == -signal.SIGKILL, f"{point}:{nth} exited {code}:\n{stage.tail()}"
        kills += 1
    ids += await topo.produce(PER_ROUND, "last")
    stage = await topo.start(extra=extra)
    await topo.wait_done(len(ids), stage, timeout=90)
    assert await stage.stop() == 0, stage.tail()

    # A kill can cut off at most the relay batch in flight: that many re-sends per kill at most.
    resends = await assert_exactly_once(topo, ids, max_resends=kills * BATCH)
    return Outcome(kills, len(ids), resends)


def _topology(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> Topology:
    return Topology(
        kafka_bootstrap,
        pg_dsn,
        db_schema,
        f"{topic_prefix}in",
        f"{topic_prefix}out",
        tmp_path / "logs",
        batch_size=BATCH,
    )


@pytest.mark.parametrize("point", crashpoints.MESSAGE_POINTS)
async def test_killed_at_point_twice_then_restarted_loses_and_duplicates_nothing(
    point: str,
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    topo = _topology(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path)
    rng = random.Random(f"{SEED}:{point}")
    outcome = await _kill_and_restart(topo, [point, point], rng)
    print(
        f"{point}: survived {outcome.kills} kills, {outcome.inputs} inputs, "
        f"{outcome.resends} re-sends (seed {SEED})"
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("point", [*crashpoints.MESSAGE_POINTS, "mixed"])
async def test_soak_many_random_kills(
    point: str,
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    topo = _topology(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path)
    rng = random.Random(f"{SEED}:soak:{point}")
    kills = int(os.environ.get("TUNTAS_SOAK_KILLS", "15"))
    points = [
        rng.choice(crashpoints.MESSAGE_POINTS) if point == "mixed" else point for _ in range(kills)
    ]
    outcome = await _kill_and_restart(topo, points, rng)
    print(
        f"\nSOAK {point}: survived {outcome.kills}/{kills} kills, {outcome.inputs} inputs each "
        f"exactly once, {outcome.resends} re-sends deduplicated by id (seed {SEED})"
    )
