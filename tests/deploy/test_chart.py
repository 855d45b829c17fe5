"""The chart renders only valid resources, for each documented size, and the validator used
for that (``tuntas deploy validate``, as ``make chart`` pipes ``helm template`` into it)
refuses what Kubernetes or the operators would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from tuntas.deploy import cli, validate

pytestmark = pytest.mark.timeout(900)
STAGES = {"intake", "validation", "biometric", "abis", "notification", "service-quality"}


def _of(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("size", sorted(cli.VALUES_FILES))
def test_each_documented_size_lints_and_renders_valid_resources(render: Any, size: str) -> None:
    values = cli.VALUES_FILES[size]
    assert "0 chart(s) failed" in cli.helm_lint(values)
    docs = render(values=values)
    assert validate.problems(docs) == []
    assert set(_of(docs, "Deployment")) == STAGES | {"tuntas-idp", "console"}
    assert set(_of(docs, "PodDisruptionBudget")) == STAGES | {"tuntas-idp"}
    assert set(_of(docs, "NetworkPolicy")) >= STAGES
    assert [p["spec"]["replicas"] for p in _of(docs, "KafkaNodePool").values()] == [3, 3]
    assert _of(docs, "Cluster")["tuntas-db"]["spec"]["instances"] == 3


def test_the_validator_refuses_a_wrong_field_in_core_and_custom_resources(render: Any) -> None:
    docs = render("stages.intake.replicas=two", "kafka.controllers.resources.gpus=1")
    found = validate.problems(docs)
    assert any(line.startswith("Deployment/intake: spec.replicas") for line in found)
    assert any(line.startswith("KafkaNodePool/controllers: spec.resources") for line in found)
    assert len(found) == 2


def test_a_kind_without_schema_is_refused() -> None:
    thing = {"apiVersion": "example.go.id/v1", "kind": "Thing", "metadata": {"name": "x"}}
    assert validate.problems([thing]) == ["Thing/x: no schema for example.go.id/v1 Thing"]


def test_stages_are_probed_on_health_with_resources_and_no_inlined_secret(render: Any) -> None:
    docs = render()
    assert "Secret" not in {d["kind"] for d in docs}
    for name in STAGES:
        pod = _of(docs, "Deployment")[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/health"
        assert container["resources"]["requests"]["cpu"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        for env in container["env"]:
            if "PASSWORD" in env["name"] and not env["name"].endswith("_FILE"):
                assert "valueFrom" in env, env["name"]
