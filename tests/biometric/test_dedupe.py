"""1:N dedupe through the ABIS boundary, end to end: the stage and Tuntas's ABIS over real
Kafka and PostgreSQL, the ABIS fetching the dedupe fingers from the stage's reference URL with
its own machine token; an operator adjudicates the suspected duplicates."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from schemas.events import BiometricsDuplicateSuspected, BiometricsRecorded
from services.biometric import earlier, rules
from services.biometric.settings import BiometricSettings
from simulators.capture.earlier import write_export
from simulators.capture.subjects import simulation_seed
from tests.biometric.stage_kit import KEC, Stage, validated
from tests.kit.payloads import nik
from tests.kit.stage import connections
from tests.kit.tokens import bearer, machine_token, staff, staff_token
from tests.waiting import wait_for


async def _record_id(stage: Stage, application_id: uuid.UUID) -> uuid.UUID:
    events = await stage.out.wait_types(application_id, "biometrics.recorded")
    recorded = next(e.payload for _, e in events if e.type == "biometrics.recorded")
    assert isinstance(recorded, BiometricsRecorded)
    return rules.record_id_of(recorded.record.key)


async def test_duplicate_found_by_the_abis_goes_to_adjudication_clear_and_confirm(
    stage: Stage,
) -> None:
    first = await stage.send_validated(validated(nik(51)))
    second = await stage.send_validated(validated(nik(52), name="Siti Aminah Dua"))
    third = await stage.send_validated(validated(nik(53), name="Siti Aminah Tiga"))
    stranger = await stage.send_validated(validated(nik(54), name="Budi Santoso"))
    for app_id in (first, second, third, stranger):
        await stage.queued(app_id)
    same_person = "one-person-three-niks"
    await stage.sit(same_person)
    assert (await stage.capture(first)).json()["state"] == "dedupe_pending"
    await stage.out.wait_types(first, "record.print_ready")
    first_record = await _record_id(stage, first)

    await stage.sit(same_person)
    hit = (await stage.capture(second)).json()
    assert hit["state"] == "dedupe_pending"
    events = await stage.out.wait_types(second, "biometrics.duplicate_suspected")
    assert "record.print_ready" not in [e.type for _, e in events]
    suspected = events[-1][1].payload
    assert isinstance(suspected, BiometricsDuplicateSuspected)
    cases = (await stage.http.get("/adjudication", params={"kecamatan": KEC})).json()
    assert [c["case_id"] for c in cases] == [suspected.case_id]
    assert cases[0]["record_id"] == hit["record_id"]
    best = cases[0]["candidates"][0]
    assert best["record_id"] == str(first_record) and best["kecamatan"] == KEC
    assert cases[0]["nik_masked"] == "3508********0052"
    # not released for printing while the case is open
    pending = await stage.http.get(
        f"/records/{hit['record_id']}/card-data", params={"kecamatan": KEC}
    )
    assert pending.status_code == 403

    # someone else at the same station: no candidate at FPIR 0.1 %, straight to print
    await stage.sit("a-different-person")
    await stage.capture(stranger)
    events = await stage.out.wait_types(stranger, "record.print_ready")
    assert "biometrics.duplicate_suspected" not in [e.type for _, e in events]

    decide = {"decision": "clear", "note": "twins, checked KK"}
    cleared = await stage.http.post(f"/adjudication/{suspected.case_id}", json=decide)
    assert cleared.status_code == 200 and cleared.json()["state"] == "print_ready"
    await stage.out.wait_types(second, "record.print_ready")
    again = await stage.http.post(f"/adjudication/{suspected.case_id}", json=decide)
    assert again.status_code == 409

    await stage.sit(same_person)
    await stage.capture(third)
    events = await stage.out.wait_types(third, "biometrics.duplicate_suspected")
    confirm_case = events[-1][1].payload
    assert isinstance(confirm_case, BiometricsDuplicateSuspected)
    confirmed = await stage.http.post(
        f"/adjudication/{confirm_case.case_id}", json={"decision": "confirm"}
    )
    assert confirmed.status_code == 200
    events = await stage.out.wait_types(third, "biometrics.duplicate_confirmed")
    assert "record.print_ready" not in [e.type for _, e in events]


async def test_reference_url_serves_the_dedupe_fingers_to_the_abis_only(
    stage: Stage, oidc_env: str
) -> None:
    app_id = await stage.send_validated(validated(nik(81)))
    await stage.queued(app_id)
    await stage.sit("reference-holder")
    record_id = (await stage.capture(app_id)).json()["record_id"]
    url = f"/abis/references/{record_id}"

    abis = bearer(machine_token(oidc_env, "svc-abis"))
    served = await stage.http.get(url, headers=abis)
    assert served.status_code == 200
    assert set(served.json()["templates"]) == {f.value for f in rules.DEDUPE_FINGERS}
    unknown = await stage.http.get(f"/abis/references/{uuid.uuid4()}", headers=abis)
    assert unknown.status_code == 404
    for other in (
        bearer(machine_token(oidc_env, "station-350805")),  # a card station
        bearer(machine_token(oidc_env, "svc-biometric")),  # another service
        bearer(staff_token(oidc_env, staff("operator"))),  # a person
    ):
        refused = await stage.http.get(url, headers=other)
        assert refused.status_code == 403 and "templates" not in refused.text


async def test_earlier_records_reach_the_abis_as_one_batch_and_are_found_as_duplicates(
    stage: Stage,
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    tmp_path: Path,
) -> None:
    export = tmp_path / "earlier.jsonl"
    niks = (nik(91), nik(92))
    write_export(niks, export)
    settings = BiometricSettings(
        connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
        db_schema=db_schema,
        master_keys=SecretStr(stage.keys),
        public_url=f"http://127.0.0.1:{stage.runtime.extra['http_port']}",
    )
    assert await earlier.load(settings, KEC, export, date(2013, 5, 2)) == (2, 0)

    async def in_gallery() -> bool:
        return bool((await stage.abis.get("/gallery")).json() == {"references": 2})

    await wait_for(in_gallery, what="the import in the ABIS's gallery")  # the stage's relay
    # the first earlier holder comes back under another NIK: the 1:N search finds the record
    app_id = await stage.send_validated(validated(nik(93), name="Nama Lain"))
    await stage.queued(app_id)
    await stage.sit(simulation_seed(niks[0]))
    await stage.capture(app_id)
    await stage.out.wait_types(app_id, "biometrics.duplicate_suspected")
    cases = (await stage.http.get("/adjudication", params={"kecamatan": KEC})).json()
    assert len(cases) == 1 and cases[0]["candidates"][0]["kecamatan"] == KEC
