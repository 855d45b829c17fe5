"""Fuzzing every route of every stage on a running deployment: schemathesis from each stage's
OpenAPI (a modest example count here; `make chaos` runs the big one) and the hand-made hostile
inputs, each as a caller with the right role and as nobody. No 5xx, and no hostile body
accepted by a route that changes state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuntas import topology
from tuntas.chaos import fuzz


@pytest.mark.timeout(900)
async def test_every_route_of_every_stage_survives_fuzzing_without_a_5xx(
    kafka_bootstrap: str,
    pg_dsn: str,
    oidc_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("DATABASE_URL", pg_dsn)
    run = f"fuzz-{tmp_path.name[-12:]}".replace("_", "-")
    options = topology.Options(
        home=tmp_path,
        topic_prefix=f"{run}.",
        database=run.replace("-", "_"),
        run_name=run,
        port_offset=680,
        smsc_port=topology.SMSC_PORT,
    )
    routes, result = await fuzz.every_stage(options, oidc_env, (5, 2), tmp_path)
    assert {r.stage for r in routes} == {*topology.PORTS, "card_production"}
    assert result.requests >= 40 * len(routes)
    assert not result.server_errors, result.server_errors[:10]
    assert not result.wrongly_accepted, result.wrongly_accepted[:10]
