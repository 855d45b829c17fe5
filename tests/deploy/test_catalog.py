"""The chart's Kafka topics and users are the project's catalogs: ``schemas/topics.py`` and
``tuntas.stack.principals.acl_table`` and the console's ``console_acls``, for the deployment's
kecamatan and topic prefix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.topics import Topics
from tuntas.deploy import catalog
from tuntas.stack.java import pinned_version
from tuntas.stack.principals import acl_table, console_acls

pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
OFFICES = ("350805", "350804", "350806")
STRIMZI_OPS = {"READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"}


def test_the_catalog_file_is_generated_from_the_current_catalogs() -> None:
    assert catalog.CATALOG_FILE.read_text() == catalog.render(), (
        "run `tuntas deploy catalog` after changing schemas/topics.py or the ACL table"
    )


def _sets(prefix: str) -> list[str]:
    return [f"kafka.topicPrefix={prefix}", "kecamatan={" + ",".join(OFFICES) + "}"]


@pytest.mark.parametrize("prefix", ["", "t1."])
def test_rendered_topics_equal_the_topic_catalog(render: Any, prefix: str) -> None:
    rendered = {
        d["spec"]["topicName"]: (d["spec"]["partitions"], d["spec"]["config"])
        for d in render(*_sets(prefix))
        if d["kind"] == "KafkaTopic"
    }
    expected = {s.name: (s.partitions, s.config()) for s in Topics(prefix).specs(OFFICES)}
    assert rendered == expected


@pytest.mark.parametrize("prefix", ["", "t1."])
def test_rendered_users_hold_exactly_the_acl_table(render: Any, prefix: str) -> None:
    rendered = set()
    for doc in render(*_sets(prefix)):
        if doc["kind"] != "KafkaUser":
            continue
        assert doc["spec"]["authentication"] == {"type": "scram-sha-512"}
        for acl in doc["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            for op in acl["operations"]:
                rendered.add(
                    (doc["metadata"]["name"], resource["type"], resource["name"],
                     resource["patternType"], re.sub(r"(?<!^)([A-Z])", r"_\1", op).upper())
                )  # fmt: skip
    expected = {
        (a.principal, a.resource.name.lower(), a.name,
         "prefix" if a.pattern.name == "PREFIXED" else "literal", a.operation.name)
        for a in [*acl_table(prefix, OFFICES), *console_acls(prefix)]
    }  # fmt: skip
    assert {op for *_, op in expected} <= STRIMZI_OPS
    assert rendered == expected


def test_the_chart_runs_the_kafka_version_of_the_local_stack() -> None:
    values = yaml.safe_load((catalog.CHART / "values.yaml").read_text())
    assert values["kafka"]["version"] == pinned_version(ROOT / "deploy/kafka/pom.xml", "kafka")
