"""The population registry: the simulator's sample extract, its file read by the district's
import tool, and the import into PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from schemas.residents import FamilyRole, RegistryPerson
from schemas.values import RegionLevel, age_on, parse_nik, parse_region_code
from services.runtime import db
from services.validation import registry, store
from services.validation.settings import ValidationSettings
from simulators import registry as simulated

TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def persons() -> list[RegistryPerson]:
    return simulated.generate_registry("35.08.05", 200, seed=7, today=TODAY)


def test_niks_are_consistent_with_birth_date_and_sex(
    persons: list[RegistryPerson],
) -> None:
    for p in persons:
        info = parse_nik(p.nik, today=TODAY)
        assert (info.birth_date, info.sex) == (p.birth_date, p.sex), p.name
    assert len({p.nik for p in persons}) == len(persons)


def test_families_and_kk_numbers(persons: list[RegistryPerson]) -> None:
    families: dict[str, list[RegistryPerson]] = {}
    for p in persons:
        families.setdefault(p.kk_number, []).append(p)
    assert len(families) == 200
    for kk, members in families.items():
        assert kk.startswith("350805")  # issued where the family lives
        roles = Counter(m.family_role for m in members)
        assert roles[FamilyRole.KEPALA_KELUARGA] == 1
        assert len({m.address for m in members}) == 1
        head = next(m for m in members if m.family_role is FamilyRole.KEPALA_KELUARGA)
        for child in (m for m in members if m.family_role is FamilyRole.ANAK):
            assert child.birth_date > head.birth_date
    desa = {p.address.desa_code for p in persons}
    assert all(parse_region_code(d, RegionLevel.DESA).startswith("350805") for d in desa)
    assert len(desa) > 5
    # Some spouses moved in: their NIK keeps the region of first issue.
    assert any(not p.nik.startswith("350805") for p in persons)
    # Enough adults to apply for a card.
    assert sum(age_on(p.birth_date, TODAY) >= 17 for p in persons) > 300


def test_same_seed_same_registry() -> None:
    a = simulated.generate_registry("350805", 20, seed=3, today=TODAY)
    b = simulated.generate_registry("350805", 20, seed=3, today=TODAY)
    c = simulated.generate_registry("350805", 20, seed=4, today=TODAY)
    assert a == b
    assert a != c


def test_applicant_from_a_resident(persons: list[RegistryPerson]) -> None:
    p = persons[0]
    applicant = p.applicant(phone="0812-3456-7890")
    assert (applicant.nik, applicant.kk_number, applicant.name) == (p.nik, p.kk_number, p.name)
    assert applicant.phone == "+6281234567890"


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_file_round_trip(persons: list[RegistryPerson], tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"residents{suffix}"
    simulated.write_file(persons, path)
    assert [p.model_dump() for p in registry.read_file(path)] == [p.model_dump() for p in persons]


def test_bad_rows_are_named_and_nothing_is_read(tmp_path: Path) -> None:
    good = simulated.generate_registry("350805", 2, seed=1, today=TODAY)
    path = tmp_path / "bad.csv"
    simulated.write_file(good, path)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(good[1].nik, good[1].nik[:-1] + "X")
    lines.append(lines[1])  # the first resident twice
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(registry.RegistryFileError) as caught:
        registry.read_file(path)
    problems = caught.value.problems
    assert any(p.startswith("line 3: nik:") for p in problems)
    assert any("listed twice" in p for p in problems)
    assert good[1].nik not in str(caught.value).replace(good[1].nik[:-1] + "X", "")


def test_cli_generate(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    assert (
        simulated.main(
            [
                "generate",
                "--kecamatan",
                "350805",
                "--families",
                "5",
                "--seed",
                "1",
                "--today",
                "2025-06-01",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    expected = simulated.generate_registry("350805", 5, seed=1, today=TODAY)
    assert [p.model_dump() for p in registry.read_file(out)] == [p.model_dump() for p in expected]


async def test_import_round_trip(
    pg_dsn: str, db_schema: str, persons: list[RegistryPerson], tmp_path: Path
) -> None:
    path = tmp_path / "residents.json"
    simulated.write_file(persons, path)
    settings = ValidationSettings(db_schema=db_schema)
    settings = settings.model_copy(
        update={"connections": settings.connections.model_copy(update={"database_url": pg_dsn})}
    )
    assert await registry.import_file(path, settings) == len(persons)
    conn = await db.connect(pg_dsn, db_schema)
    try:
        assert await conn.fetchval("SELECT count(*) FROM registry_persons") == len(persons)
        imported = registry.read_file(path)
        for p in imported[:25]:
            assert await store.find_resident(conn, p.nik) == p
        assert await store.find_resident(conn, "3508050101010001") is None
        # A newer extract replaces a resident's record.
        moved = imported[0].model_copy(update={"kk_number": "3508051212240001"})
        assert await store.import_persons(conn, [moved]) == 1
        assert await store.find_resident(conn, moved.nik) == moved
        assert await conn.fetchval("SELECT count(*) FROM registry_persons") == len(persons)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO registry_persons (nik, kk_number, kecamatan, record)"
                " VALUES ('123', '3508051212240001', '350805', '{}')"
            )
    finally:
        await conn.close()
