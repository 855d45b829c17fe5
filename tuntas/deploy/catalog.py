"""The chart's `files/catalog.json`: Kafka topics and users as the project's catalogs define them.

The chart iterates this file instead of listing topics or ACLs by hand, so neither can drift from
``schemas.topics`` and ``tuntas.stack.principals`` (the console's read-only ACLs included). What
depends on the district's list of kecamatan (a print-ready topic and a station principal per
office) is written once with a ``{kecamatan}`` placeholder the chart fills in; names carry no
topic prefix (the chart adds ``kafka.topicPrefix``). :func:`catalog` checks that the placeholder
form gives back exactly the catalogs' own answer for several offices, so the split cannot lose or
invent a topic or an ACL.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from schemas.topics import Topics, TopicSpec
from tuntas.stack.kafka_admin import Acl
from tuntas.stack.principals import acl_table, console_acls

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "tuntas"
CATALOG_FILE = CHART / "files" / "catalog.json"
PLACEHOLDER = "{kecamatan}"
# Two real kecamatan codes (Tempeh, Pasirian): the per-office parts are what they add.
_PROBE = ("350805", "350804")

# Strimzi's spellings of Kafka's ACL enums.
_OPERATIONS = {
    "READ": "Read",
    "WRITE": "Write",
    "CREATE": "Create",
    "DESCRIBE": "Describe",
    "DESCRIBE_CONFIGS": "DescribeConfigs",
    "ALTER_CONFIGS": "AlterConfigs",
}
_RESOURCES = {"TOPIC": "topic", "GROUP": "group"}
_PATTERNS = {"LITERAL": "literal", "PREFIXED": "prefix"}


def acls(kecamatan: tuple[str, ...]) -> list[Acl]:
    """The chart's ACLs (no topic prefix): the stages' and stations', and the console's."""
    return [*acl_table("", kecamatan), *console_acls("")]


def _topic(spec: TopicSpec) -> dict[str, Any]:
    return {"name": spec.name, "partitions": spec.partitions, "config": spec.config()}


def _topics(kecamatan: tuple[str, ...]) -> list[dict[str, Any]]:
    return [_topic(spec) for spec in Topics().specs(kecamatan)]


def _users(acls: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Strimzi's ``spec.authorization.acls`` per principal: one entry per resource."""
    grouped: dict[str, dict[tuple[str, str, str], list[str]]] = defaultdict(dict)
    for acl in acls:
        key = (_RESOURCES[acl.resource.name], acl.name, _PATTERNS[acl.pattern.name])
        grouped[acl.principal].setdefault(key, []).append(_OPERATIONS[acl.operation.name])
    return {
        principal: [
            {
                "resource": {"type": kind, "name": name, "patternType": pattern},
                "operations": sorted(ops),
            }
            for (kind, name, pattern), ops in sorted(resources.items())
        ]
        for principal, resources in sorted(grouped.items())
    }


def _swap(value: Any, old: str, new: str) -> Any:
    return json.loads(json.dumps(value).replace(old, new))


def catalog() -> dict[str, Any]:
    """The file's content: what every deployment has, and what each kecamatan adds (its
    print-ready topics, its station's user, the services' ACLs on its topics) as templates."""
    code = _PROBE[0]
    fixed_topics = _topics(())
    granted = acls((code,))
    result = {
        "topics": fixed_topics,
        "users": _users([a for a in granted if code not in a.principal + a.name]),
        "kecamatan": _swap(
            {
                "topics": [t for t in _topics((code,)) if t not in fixed_topics],
                "users": _users([a for a in granted if code in a.principal + a.name]),
            },
            code,
            PLACEHOLDER,
        ),
    }
    topics, users = expand(result, _PROBE)
    if topics != _sorted(_topics(_PROBE)) or users != _normal(_users(acls(_PROBE))):
        raise ValueError("the per-kecamatan templates do not give back the catalogs")
    return result


def expand(
    content: dict[str, Any], kecamatan: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """What the chart makes of the file for these kecamatan: every topic, every user's ACLs."""
    topics = list(content["topics"])
    users = {p: list(entries) for p, entries in content["users"].items()}
    for code in kecamatan:
        office = _swap(content["kecamatan"], PLACEHOLDER, code)
        topics += office["topics"]
        for principal, entries in office["users"].items():
            users.setdefault(principal, []).extend(entries)
    return _sorted(topics), _normal(users)


def _sorted(topics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(topics, key=lambda t: str(t["name"]))


def _normal(users: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {p: sorted(entries, key=json.dumps) for p, entries in sorted(users.items())}


def render() -> str:
    return json.dumps(catalog(), indent=1, sort_keys=True) + "\n"


def write(path: Path = CATALOG_FILE) -> bool:
    """Write the file; True when it changed."""
    text = render()
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True
