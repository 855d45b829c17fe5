"""The JSON schemas of the custom resources the chart renders, from the operators' released CRDs.

- CloudNativePG: the CRD files of its release, in its Go module (``config/crd/bases``), fetched
  with ``go mod download``; the Prometheus operator's (PrometheusRule, PodMonitor, ScrapeConfig)
  likewise, from its Go module's ``example/prometheus-operator-crd``.
- Strimzi publishes no CRD file to a package registry; its released install files are the output
  of its CRD generator run over its API classes, both on Maven Central. ``deploy/helm/crds/pom.xml``
  fetches them and the generator runs with the arguments of Strimzi's own build. It needs Java 21
  or later, which not every machine has, so its output for the pinned version is kept in the
  repository (``deploy/helm/crds/strimzi-<version>/``, as a chart vendors its CRDs); it is
  generated only when the pinned version changes and that folder does not exist yet.

Each CRD version's ``openAPIV3Schema`` becomes a strict JSON schema the way kubeconform's
openapi2jsonschema does it: an object lists all its properties (``additionalProperties: false``)
unless it says it keeps unknown fields, ``nullable`` admits null, int-or-string admits both.
The versions are the chart's (its Chart.yaml annotations).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tuntas.deploy.catalog import CHART
from tuntas.deploy.tools import cache, go, run
from tuntas.stack.errors import StackError

STRIMZI_POM = CHART.parent / "crds" / "pom.xml"
CNPG_MODULE = "github.com/cloudnative-pg/cloudnative-pg"
PROMETHEUS_MODULE = "github.com/prometheus-operator/prometheus-operator"
# The Strimzi kinds the chart uses, by their API classes (io.strimzi:api).
STRIMZI_KINDS = {
    "Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
    "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "KafkaUser": "io.strimzi.api.kafka.model.user.KafkaUser",
}
# io.strimzi:api's pom, execution generate-crd-co-install-v1.
_GENERATOR_ARGS = [
    "--label", "app:strimzi", "--label", "strimzi.io/crd-install:true",
    "--target-kube", "1.16+", "--crd-api-version", "v1", "--api-versions", "v1",
    "--storage-version", "v1", "--yaml",
]  # fmt: skip


def versions() -> dict[str, str]:
    """The operator versions the chart is written for (Chart.yaml annotations)."""
    annotations = yaml.safe_load((CHART / "Chart.yaml").read_text())["annotations"]
    return {
        "strimzi": annotations["tuntas.id/strimzi-version"],
        "cloudnative-pg": annotations["tuntas.id/cloudnative-pg-version"],
        "prometheus-operator": annotations["tuntas.id/prometheus-operator-version"],
    }


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML 1.1 reads a bare ``=`` as the "value" tag; the Prometheus operator's CRDs list it
    among an enum's strings (relabelling actions), as Kubernetes' YAML 1.2 reader does."""


_Loader.add_constructor("tag:yaml.org,2002:value", yaml.SafeLoader.construct_scalar)


def _documents(folder: Path) -> list[dict[str, Any]]:
    return [yaml.load(path.read_text(), Loader=_Loader) for path in sorted(folder.glob("*.yaml"))]


def go_module_crds(module: str, version: str, folder: str) -> list[dict[str, Any]]:
    """The CRD files in ``folder`` of a Go module's release."""
    listing = run(
        [go(), "mod", "download", "-json", f"{module}@v{version}"],
        f"go mod download {module}@v{version}",
    )
    return _documents(Path(json.loads(listing)["Dir"]) / folder)


def _java21() -> str:
    """A Java of version 21 or later: on PATH, or one of the JDKs beside it."""
    candidates = [shutil.which("java"), *map(str, Path("/usr/lib/jvm").glob("*/bin/java"))]
    for java in filter(None, candidates):
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        found = re.search(r'version "(\d+)', probe.stderr)
        if found and int(found.group(1)) >= 21:
            return java
    raise StackError("Strimzi's CRD generator needs Java 21 or later; none found")


def strimzi_crds(version: str) -> list[dict[str, Any]]:
    folder = STRIMZI_POM.parent / f"strimzi-{version}"
    if not folder.exists():
        cache().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="strimzi-", dir=cache()))
        try:
            run(
                [shutil.which("mvn") or "mvn", "-q", "-B", "-f", str(STRIMZI_POM),
                 "dependency:copy-dependencies", f"-Dstrimzi.version={version}",
                 f"-DoutputDirectory={staging / 'libs'}"],
                f"mvn fetching io.strimzi:api:{version}",
            )  # fmt: skip
            outputs = [
                f"{cls}={staging / kind.lower()}.yaml" for kind, cls in STRIMZI_KINDS.items()
            ]
            run(
                [_java21(), "-cp", f"{staging / 'libs'}/*", "io.strimzi.crdgenerator.CrdGenerator",
                 *_GENERATOR_ARGS, *outputs],
                "Strimzi's CRD generator",
            )  # fmt: skip
            folder.mkdir(parents=True)
            for generated in staging.glob("*.yaml"):
                shutil.copyfile(generated, folder / generated.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _documents(folder)


def strict(schema: Any) -> Any:
    """openAPIV3Schema -> JSON schema, strict (see the module's docstring)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    keeps_unknown = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not keeps_unknown:
        out["additionalProperties"] = False
    return out


def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind) -> JSON schema`` of every custom resource kind the chart may use,
    written once into the cache as JSON and read from there afterwards."""
    pinned = versions()
    folder = cache() / (
        f"crd-schemas-strimzi-{pinned['strimzi']}-cnpg-{pinned['cloudnative-pg']}"
        f"-prometheus-operator-{pinned['prometheus-operator']}"
    )
    index = folder / "index.json"
    if not index.exists():
        crds = [
            *strimzi_crds(pinned["strimzi"]),
            *go_module_crds(CNPG_MODULE, pinned["cloudnative-pg"], "config/crd/bases"),
            *go_module_crds(
                PROMETHEUS_MODULE,
                pinned["prometheus-operator"],
                "example/prometheus-operator-crd",
            ),
        ]
        table: dict[str, dict[str, Any]] = {}
        for crd in crds:
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    table[f"{group}/{version['name']}|{kind}"] = schema
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / "index.json.part"
        staging.write_text(json.dumps(table))
        staging.rename(index)
    loaded: dict[str, dict[str, Any]] = json.loads(index.read_text())
    return {(key.split("|")[0], key.split("|")[1]): schema for key, schema in loaded.items()}
