"""`tuntas bench`: the bare relay moves every message through five hops; the effectively-once
check fails on a duplicate or a missing id; a tiny pipeline run passes it; so does a tiny run
of the biometric stage's own bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulators.capture import library
from tuntas.bench import abis, biometric, ceiling, checks, kecamatan_codes, pipeline, report
from tuntas.stack import local


async def test_ceiling_relay_moves_every_message_through_five_hops(kafka_bootstrap: str) -> None:
    result = await ceiling.run(kafka_bootstrap, 300, 256, partitions=3, timeout=60)
    assert result.hops == 5
    assert result.received == 300
    assert result.seconds > 0 and result.per_second > 0
    assert len(result.hop_cpu_seconds) == 5


def test_check_passes_when_every_id_is_there_once() -> None:
    ids = ["a", "b", "c"]
    results = checks.verdict(ids, {"stage x": ["c", "a", "b"], "final topic": ids})
    assert all(r.ok for r in results)


def test_check_fails_loudly_on_a_duplicate_a_missing_and_a_stray_id() -> None:
    ids = ["a", "b", "c"]
    with pytest.raises(checks.EffectivelyOnceError) as caught:
        checks.verdict(
            ids,
            {
                "stage ok": ["a", "b", "c"],
                "stage twice": ["a", "b", "b", "c"],
                "stage lost": ["a", "c"],
                "final topic": ["a", "b", "c", "zzz"],
            },
        )
    failed = {f.name: f for f in caught.value.failures}
    assert set(failed) == {"stage twice", "stage lost", "final topic"}
    assert failed["stage twice"].duplicated == {"b": 2}
    assert failed["stage lost"].missing == ["b"]
    assert failed["final topic"].unexpected == ["zzz"]
    assert "effectively-once check FAILED in 3 place(s)" in str(caught.value)


def test_percentiles_and_kecamatan_choice() -> None:
    values = [float(v) for v in range(1, 101)]
    assert pipeline.percentile(values, 50) == 50
    assert pipeline.percentile(values, 99) == 99
    assert pipeline.percentile([], 99) == 0
    assert kecamatan_codes(1) == ("350805",)
    assert len(set(kecamatan_codes(21))) == 21


@pytest.fixture
def config(
    kafka_bootstrap: str, pg_dsn: str, oidc_issuer: str, tmp_path: Path
) -> local.StackConfig:
    """The test session's Kafka, PostgreSQL and identity provider (every stage verifies
    tokens; the ABIS logs in to fetch the stage's references)."""
    return local.StackConfig(
        home=tmp_path,
        cache=local.StackConfig.from_env().cache,
        external_kafka=kafka_bootstrap,
        external_db=pg_dsn,
        external_oidc=oidc_issuer,
    )


async def test_tiny_pipeline_run_is_effectively_once(
    config: local.StackConfig, tmp_path: Path
) -> None:
    spec = pipeline.RunSpec(12, ("350805",), port_offset=1700, stall_seconds=60)
    result = await pipeline.run(spec, config, log=lambda _: None)
    assert len(result.latencies_ms) == 12
    assert result.per_second > 0
    assert [s.handed_on for s in result.stages] == [12] * 5
    assert any("final topic" in line and "each application once" in line for line in result.checks)
    doc = report.document(None, result, [], [result], {"cpus": 2})
    data, chart = report.write(tmp_path / "out", doc)
    assert json.loads(data.read_text())["pipeline"]["applications"] == 12
    assert chart.read_text().startswith("<svg")


async def test_biometric_stage_bench_brings_every_application_to_print_once(
    config: local.StackConfig, tmp_path: Path
) -> None:
    folder = tmp_path / "library"
    library.extend(folder, 6, workers=1)
    enrolled = tmp_path / "earlier.jsonl"  # searched against a gallery already enrolled
    abis.write_earlier(enrolled, 30, seed=5)
    result = await biometric.run(
        config, 6, concurrency=3, image_workers=1, folder=folder, port_offset=1750,
        enrolled=enrolled,
    )  # fmt: skip
    assert result["enrolled_before"] == 30
    assert result["states"] == {"print_ready": 6}  # none taken for a duplicate of another
    assert result["ready_once"] == 6
    assert result["stage_applications_per_s"] > 0
    assert result["cpu_ms_per_application"]["biometric"] > 0


async def test_biometric_import_bench_loads_every_record_into_the_abis(
    config: local.StackConfig, tmp_path: Path
) -> None:
    export = tmp_path / "earlier.jsonl"
    abis.write_earlier(export, 30, seed=3)
    result = await biometric.import_earlier(config, export, port_offset=1750)
    assert result["records_stored"] == 30
    assert result["abis_references"] == 30
    assert result["cpu_seconds"]["loader"] > 0
