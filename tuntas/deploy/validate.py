"""A strict schema check of rendered manifests (``helm template ... | tuntas deploy validate``).

Kubernetes' own kinds against the Kubernetes schemas kubernetes-validate ships (strict: an
unknown field is an error), for the oldest and the newest Kubernetes the chart supports; the
Strimzi and CloudNativePG kinds against their CRD schemas (``crds``). A kind with no schema is
an error, not a pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tuntas.deploy import crds

KUBERNETES_VERSIONS = ("1.30", "1.37")  # Chart.yaml's kubeVersion, and the newest schemas


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def problems(docs: Iterable[dict[str, Any]]) -> list[str]:
    """One line per invalid resource; empty when every resource is valid."""
    custom = crds.schemas()
    found: list[str] = []
    for doc in docs:
        key = (doc.get("apiVersion", ""), doc.get("kind", ""))
        try:
            if key in custom:
                jsonschema.Draft7Validator(custom[key]).validate(doc)
            else:
                for version in KUBERNETES_VERSIONS:
                    kubernetes_validate.validate(doc, version, strict=True)
        except jsonschema.ValidationError as error:
            path = ".".join(map(str, error.absolute_path)) or "(top)"
            found.append(f"{_name(doc)}: {path}: {error.message[:300]}")
        except kubernetes_validate.SchemaNotFoundError:
            found.append(f"{_name(doc)}: no schema for {key[0]} {key[1]}")
    return found
