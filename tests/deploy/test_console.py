"""The chart's office console: one pod whose environment is the console's own settings, its
secrets read from mounted files, reachable from the ingress only, let into the stages it calls,
into Kafka (read-only user) and the IdP; nothing of it when ``console.enabled`` is false."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from services.console.settings import ConsoleSettings

pytestmark = pytest.mark.timeout(900)
STATION = "http://10.20.5.10:8085"
CONSOLE_PODS = {"podSelector": {"matchLabels": {"tuntas.id/console": "true"}}}


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


@pytest.fixture(scope="module")
def docs(render: Any) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = render(
        f"console.stationUrls.350805={STATION}", "console.timeZones.350805=Asia/Makassar"
    )
    return rendered


def test_one_pod_whose_env_loads_as_the_console_settings(
    docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = _one(docs, "Deployment", "console")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["services.console"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    env = {e["name"]: e["value"] for e in container["env"]}  # no valueFrom: nothing inlined
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = ConsoleSettings()
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8080)
    assert settings.secure_cookie
    assert settings.intake_url == "http://intake"
    assert settings.service_quality_url == "http://service-quality"
    assert settings.station_urls == {"350805": STATION}
    assert settings.time_zones == {"350805": "Asia/Makassar"}
    assert settings.connections.kafka_sasl_username == "svc-console"
    assert settings.connections.kafka_bootstrap_servers == "tuntas-kafka-bootstrap:9092"

    # Every *_FILE setting names a key of a Secret mounted where it points.
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    mounts = {m["mountPath"]: secrets.get(m["name"]) for m in container["volumeMounts"]}
    files = [
        settings.client_secret_file,
        settings.session_secret_file,
        settings.connections.kafka_sasl_password_file,
    ]
    mounted = {mounts.get(str(PurePosixPath(f).parent)) for f in files}
    assert mounted == {"tuntas-console-client", "tuntas-console-session", "svc-console"}


def test_reached_from_the_ingress_only_and_let_into_what_it_calls(
    docs: list[dict[str, Any]],
) -> None:
    policy = _one(docs, "NetworkPolicy", "console")["spec"]
    (rule,) = policy["ingress"]
    (source,) = rule["from"]
    assert source["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }
    called = {"intake", "validation", "biometric", "notification", "service-quality"}
    egress = [
        to["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
        for rule in policy["egress"]
        for to in rule.get("to", [])
        if "podSelector" in to
    ]
    assert called | {"idp"} <= set(egress)
    for stage in called | {"abis"}:
        admitted = [
            source
            for rule in _one(docs, "NetworkPolicy", stage)["spec"].get("ingress", [])
            for source in rule.get("from", [])
        ]
        assert (CONSOLE_PODS in admitted) == (stage in called), stage
    idp = _one(docs, "NetworkPolicy", "tuntas-idp")["spec"]["ingress"][0]["from"]
    assert CONSOLE_PODS in idp
    (listener,) = [
        x for x in _one(docs, "Kafka", "tuntas")["spec"]["kafka"]["listeners"] if x["port"] == 9092
    ]
    assert CONSOLE_PODS in listener["networkPolicyPeers"]
    user = _one(docs, "KafkaUser", "svc-console")["spec"]["authorization"]["acls"]
    assert {op for acl in user for op in acl["operations"]} == {"Read", "Describe"}
    host = _one(docs, "Ingress", "console")["spec"]["rules"][0]["host"]
    assert host == "console.tuntas.example.go.id"


def test_nothing_of_the_console_when_disabled(render: Any, tmp_path: Path) -> None:
    off = tmp_path / "no-console.yaml"
    off.write_text("console: {enabled: false}\n")  # a boolean (--set-string would not be)
    docs = render(values=(off,))
    assert not [d for d in docs if d["metadata"]["name"] == "console"]
    for policy in (d for d in docs if d["kind"] == "NetworkPolicy"):
        assert "tuntas.id/console" not in str(policy["spec"]["ingress"])
    (kafka,) = [d for d in docs if d["kind"] == "Kafka"]
    assert "tuntas.id/console" not in str(kafka["spec"]["kafka"]["listeners"])
