"""``tuntas bench --scale-out``: the light stages' throughput with 1 and 2 processes per stage,
on 1 broker and on a 3-node KRaft cluster (replication 3, min.insync.replicas 2).

Each point is a whole pipeline run (:mod:`tuntas.bench.pipeline`, effectively-once checked)
with intake, validation and notification as 1 or 2 processes in one consumer group each
(biometric stays 1: the light stages are what is scaled). The 1-broker points use the stack's
broker; the 3-broker points a cluster started for them beside it (same database server),
stopped afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from tuntas import topology
from tuntas.bench import pipeline
from tuntas.stack import local, prereq

LIGHT = ("intake", "validation", "notification")
# Notification hands on nothing at the light stages' pace (its card-ready SMS follow
# biometric and the station): its figure is its applying of the burst validation hands on.
NOTIFICATION_BURST = ("notification", "application.validated", "in")
POINTS = ((1, 1), (2, 1), (1, 3), (2, 3))  # (processes per light stage, brokers)
PORT_OFFSET = 1500  # beside a main bench run (1000): process 2 adds 100 to each port


def cluster_config(config: local.StackConfig) -> local.StackConfig:
    """Three KRaft nodes beside the stack (its home, database and IdP); SCRAM listeners as the
    stack's broker has them, so both kinds of point run the same client security."""
    base = prereq.free_block(9)
    sasl = config.external_kafka is None and config.kafka_sasl_port is not None
    return dataclasses.replace(
        config,
        external_kafka=None,
        kafka_nodes=3,
        kafka_port=base,
        controller_port=base + 1,
        kafka_sasl_port=base + 2 if sasl else None,
    )


def summary(processes: int, brokers: int, result: pipeline.RunResult) -> dict[str, Any]:
    per_stage = {s.stage: round(s.per_second, 2) for s in result.stages}
    per_stage["notification"] = per_stage["notification application.validated (in)"]
    return {
        "processes_per_stage": processes,
        "brokers": brokers,
        "applications": result.spec.applications,
        "seconds": round(result.seconds, 1),
        "end_to_end_per_second": round(result.per_second, 2),
        "light_stages_per_second": {stage: per_stage[stage] for stage in LIGHT},
        "biometric_per_second": per_stage["biometric"],
        "light_stages_cpu_seconds": round(
            sum(p.cpu_seconds for p in result.processes if p.name.split("-")[0] in LIGHT), 1
        ),
        "effectively_once": all("each application once" in c for c in result.checks),
    }


async def run(
    config: local.StackConfig,
    applications: int,
    log: Callable[[str], None],
    on_point: Callable[[dict[str, Any]], None],
) -> None:
    """Every point in turn; ``on_point`` gets each one's figures as it ends."""
    cluster = cluster_config(config)
    try:
        for processes, brokers in POINTS:
            log(f"== scale-out: {processes} process(es) per light stage, {brokers} broker(s)")
            spec = pipeline.RunSpec(
                applications,
                (topology.TEMPEH,),
                processes={stage: processes for stage in LIGHT},
                port_offset=PORT_OFFSET,
                extra_markers=[NOTIFICATION_BURST],
            )
            result = await pipeline.run(spec, config if brokers == 1 else cluster, log=log)
            on_point(summary(processes, brokers, result))
    finally:
        for node in cluster.kafka_cluster():
            node.stop()


def table(figures: list[dict[str, Any]]) -> str:
    lines = ["scale-out (applications handed on per second; processes per light stage):"]
    for f in figures:
        light = f["light_stages_per_second"]
        lines.append(
            f"  {f['processes_per_stage']} proc {f['brokers']} broker(s): "
            + " ".join(f"{stage} {light[stage]:>6.2f}" for stage in LIGHT)
            + f"  biometric {f['biometric_per_second']:.2f}  end to end"
            f" {f['end_to_end_per_second']:.2f}  light CPU {f['light_stages_cpu_seconds']} s"
        )
    return "\n".join(lines)
