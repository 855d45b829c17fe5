"""Fuzzing every route of every stage on a running deployment: schemathesis from each stage's
OpenAPI (a modest example count here; `make chaos` runs the big one) and the hand-made hostile
inputs, each as a caller with the right role and as nobody. No 5xx, and no hostile body
accepted by a route that changes state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuntas import topology, up
from tuntas.chaos import fuzz
from tuntas.chaos.callers import Callers
from tuntas.stack import local


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
    callers = Callers(oidc_env, options.kecamatan[0])
    async with up.running(options, local.StackConfig.from_env()):
        stages = {s: topology.url(s, options) for s in topology.PORTS}
        stages["card_production"] = topology.station_url(0, options)
        routes = await fuzz.routes(stages)
        assert {r.stage for r in routes} == set(stages)
        result = await fuzz.hostile_inputs(routes, callers)
        result.merge(await fuzz.hostile_inputs(routes, None))
        for stage, base in stages.items():
            result.merge(await fuzz.schemathesis(stage, base, 5, tmp_path, callers))
            result.merge(await fuzz.schemathesis(stage, base, 2, tmp_path, None))
    assert result.requests >= 40 * len(routes)
    assert not result.server_errors, result.server_errors[:10]
    assert not result.wrongly_accepted, result.wrongly_accepted[:10]
