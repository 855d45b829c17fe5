"""A small day under faults (the subset of `make chaos` in `make test`): 20 applications at two
of the demo's offices while the seeded driver kills every process of the deployment at least
twice, stops the run's own PostgreSQL (``-m immediate``), freezes the SMSC, stops a printer,
slows the database link and the card stations' link to the broker; then every chaos check
over the run's database, topics and devices. The run has its own PostgreSQL and its own
broker (the stations reach it through the link the run delays); the session's Keycloak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from tuntas import chaos


# In `make test`: the representative subset of `make chaos` (docs/reliability.md, "The small
# day"); about 4 minutes on 2 cores.
@pytest.mark.timeout(1800)
async def test_small_day_under_faults_ends_with_every_check_passing(
    oidc_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for own in ("KAFKA_BOOTSTRAP_SERVERS", "TUNTAS_KAFKA_PORT", "TUNTAS_KAFKA_CONTROLLER_PORT"):
        monkeypatch.delenv(own, raising=False)  # a broker of the run's own, on free ports
    for own in ("TUNTAS_KAFKA_SASL_PORT", "TUNTAS_KAFKA_STATION_PORT", "TUNTAS_KAFKA_NODES"):
        monkeypatch.delenv(own, raising=False)
    opts = chaos.ChaosOptions(
        applicants=20,
        kecamatan=2,
        seed=21,
        mean_interval_s=3.0,
        day_s=20.0,
        timeout_s=1500.0,  # the day took 11 min at load 25-40 on the shared 2-core machine
        out=tmp_path / "chaos",
        port_offset=650,
        kills_per_round=1,
        min_rounds=2,  # every kind at least twice, however quickly the day goes
    )
    with chaos.own_postgres() as own, (tmp_path / "console.txt").open("w") as journal:
        result = await chaos.run(opts, own, console=Console(file=journal, width=120))
    assert result.applications == 20
    processes = len(result.restarts)
    assert result.faults["kill"] + result.faults["reader-removed"] >= 2 * processes
    for kind in ("smsc-freeze", "printer", "postgres", "delay", "station-delay"):
        assert result.faults[kind] >= 2, result.faults
    assert result.station_link_connections > 0  # the stations' Kafka traffic took the link
    # the supervisor brought every killed process back, each one answering again
    assert all(n >= 2 for n in result.restarts.values()), result.restarts
    assert result.recovery["kill"]["n"] >= 2 * processes - 2, result.recovery
    failed = [c.line() for c in result.checks if not c.ok]
    assert not failed, failed
    assert "all checks passed" in result.summary()
    logged = (tmp_path / "chaos" / "faults.jsonl").read_text().splitlines()
    assert len(logged) == sum(result.faults.values())
    assert {json.loads(line)["kind"] for line in logged} >= {"kill", "postgres", "delay"}
