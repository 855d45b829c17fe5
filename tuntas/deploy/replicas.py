"""A stage's replicas are members of its consumer groups: Kafka gives each partition to one
member, so replicas beyond the fewest partitions of a topic the stage consumes would idle.
``tuntas deploy check`` refuses a values file that asks for more."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from schemas.topics import Topics
from tuntas.deploy.catalog import CHART


def partitions_per_stage() -> dict[str, int]:
    """The fewest partitions among the topics each stage consumes (the catalog's)."""
    out: dict[str, int] = {}
    for spec in Topics().specs(()):
        for service in spec.consumers:
            out[service.value] = min(out.get(service.value, spec.partitions), spec.partitions)
    return out


def stage_replicas(values_files: Iterable[Path]) -> dict[str, int]:
    """Each stage's ``replicas`` in the chart's values.yaml with these files laid over it."""
    out: dict[str, int] = {}
    for path in [CHART / "values.yaml", *values_files]:
        values: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
        for stage, settings in (values.get("stages") or {}).items():
            if "replicas" in (settings or {}):
                out[stage] = int(settings["replicas"])
    return out


def problems(values_files: Iterable[Path]) -> list[str]:
    limits = partitions_per_stage()
    return [
        f"stages.{stage}.replicas={count} > {limits[stage]} partitions of a topic it consumes"
        for stage, count in stage_replicas(values_files).items()
        if count > limits.get(stage, count)
    ]
