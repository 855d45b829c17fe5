"""A stage's replicas are consumer-group members: `tuntas deploy check` refuses more replicas
than the partitions of a topic the stage consumes (they would idle)."""

from __future__ import annotations

from pathlib import Path

from tuntas.deploy import cli, replicas


def test_documented_sizes_fit_their_partitions() -> None:
    for values in cli.VALUES_FILES.values():
        assert replicas.problems(values) == []
    assert replicas.stage_replicas(cli.VALUES_FILES["province"])["biometric"] == 6
    assert replicas.partitions_per_stage()["intake"] == 12


def test_more_replicas_than_partitions_is_refused(tmp_path: Path) -> None:
    over = tmp_path / "over.yaml"
    over.write_text("stages:\n  validation:\n    replicas: 13\n  intake:\n    replicas: 12\n")
    assert replicas.problems([over]) == [
        "stages.validation.replicas=13 > 12 partitions of a topic it consumes"
    ]
