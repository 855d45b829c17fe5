"""A population registry of the outside world: a realistic sample resident extract.

Stands in for the district's SIAK database, which hands the validation stage an extract
file. The file format is the interface (:mod:`schemas.residents`), as
``python -m services.validation.registry import FILE`` reads it.

    python -m simulators.registry generate --kecamatan 350805 --families 500 \\
        --seed 1 --out residents.csv

The demo and the benchmark import :func:`generate_registry` to create applicants who exist
in the registry (``RegistryPerson.applicant()``), then import the file with the stage's tool.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from schemas.application import (
    Address,
    BloodType,
    MaritalStatus,
    Religion,
)
from schemas.regions import lumajang
from schemas.residents import CSV_COLUMNS, FamilyRole, RegistryPerson
from schemas.values import RegionLevel, Sex, age_on, parse_region_code, today_in_indonesia

# ---------------------------------------------------------------- reference data

# Desa of Kecamatan Tempeh. Names from public lists; the 4-digit codes are UNVERIFIED
# (Pandanwangi 2001 as in schemas.samples, the rest numbered in list order). The shipped
# region data (schemas/reference) stops at kecamatan level; when it gains desa rows, those win.
_TEMPEH_DESA = (
    "Pandanwangi",
    "Besuk",
    "Gesang",
    "Jatisari",
    "Jokarto",
    "Kaliwungu",
    "Lempeni",
    "Pandanarum",
    "Pulo",
    "Sumberjati",
    "Tempeh Kidul",
    "Tempeh Lor",
    "Tempeh Tengah",
)
_DUSUN = ("Krajan", "Kebonsari", "Sumberejo", "Karanganyar", "Tegalrejo", "Sukorejo", "Gondang")
_MALE = (
    "Ahmad",
    "Abdul Rohman",
    "Agus Salim",
    "Bambang",
    "Budi Santoso",
    "Dedi",
    "Eko Prasetyo",
    "Fajar",
    "Hadi",
    "Hariyanto",
    "Imam",
    "Joko",
    "Moh. Ali",
    "Muhammad Rizki",
    "Nur Hasan",
    "Puji",
    "Rahmat",
    "Slamet",
    "Sugeng",
    "Suparman",
    "Supriyadi",
    "Sutrisno",
    "Teguh",
    "Wahyudi",
    "Yusuf",
    "Zainal Arifin",
    "Ilham",
    "Rudi Hartono",
    "Samsul",
    "Kusnadi",
)
_FEMALE = (
    "Siti Aminah",
    "Siti Nur'aini",
    "Sri Wahyuni",
    "Dewi Lestari",
    "Endang",
    "Fatimah",
    "Ika Rahmawati",
    "Indah",
    "Juwariyah",
    "Kartini",
    "Lilik",
    "Mariyam",
    "Nurul Hidayah",
    "Ninik",
    "Puji Astutik",
    "Rina",
    "Rukmini",
    "Sulastri",
    "Sumiati",
    "Tutik",
    "Umi Kulsum",
    "Wulan",
    "Yuliana",
    "Zahro",
    "Anisa",
    "Dwi Ratnasari",
    "Eni",
    "Halimah",
)
_FAMILY_NAMES = ("", "", "", "", "Hidayat", "Santoso", "Wijaya", "Saputra", "Prasetyo", "Hasan")
_BIRTH_PLACES = ("Lumajang",) * 8 + ("Jember", "Probolinggo", "Malang", "Surabaya")
_HEAD_JOBS = (
    "Petani/Pekebun",
    "Petani/Pekebun",
    "Buruh Tani/Perkebunan",
    "Wiraswasta",
    "Pedagang",
    "Karyawan Swasta",
    "Sopir",
    "Guru",
    "Buruh Harian Lepas",
    "Pegawai Negeri Sipil",
)
_SPOUSE_JOBS = ("Mengurus Rumah Tangga",) * 5 + ("Petani/Pekebun", "Pedagang", "Wiraswasta")
_ADULT_CHILD_JOBS = ("Karyawan Swasta", "Wiraswasta", "Buruh Harian Lepas", "Belum/Tidak Bekerja")
# Where people who moved in were first issued their NIK (kecamatan elsewhere in Jawa Timur).
_OTHER_REGIONS = ("350901", "351301", "350701", "357801", "350902")


def desa_of(kecamatan: str) -> list[tuple[str, str]]:
    """(desa code, name) of a kecamatan: reference data if it has desa rows, else samples."""
    code = parse_region_code(kecamatan, RegionLevel.KECAMATAN)
    listed = lumajang().children(code, RegionLevel.KECAMATAN)
    if listed:
        return [(r.code, r.name) for r in listed]
    if code == "350805":
        return [(f"{code}{2001 + i}", name) for i, name in enumerate(_TEMPEH_DESA)]
    return [(f"{code}{2001 + i}", f"Desa {i + 1:02d}") for i in range(8)]


class _Numbers:
    """Allocates NIK and KK serials: unique per (region, date part), from 0001."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def _take(self, prefix: str) -> str:
        serial = self._next.get(prefix, 1)
        if serial > 9999:
            raise ValueError("more than 9999 numbers for one region and date")
        self._next[prefix] = serial + 1
        return f"{prefix}{serial:04d}"

    def nik(self, region: str, born: date, sex: Sex) -> str:
        day = born.day + (40 if sex is Sex.FEMALE else 0)
        return self._take(f"{region}{day:02d}{born:%m%y}")

    def kk(self, kecamatan: str, issued: date) -> str:
        return self._take(f"{kecamatan}{issued:%d%m%y}")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _birth_date(rng: random.Random, today: date, age_low: int, age_high: int) -> date:
    """A date of birth making someone ``age_low``..``age_high`` years old on ``today``."""
    latest = _years_before(today, age_low)
    earliest = _years_before(today, age_high + 1) + timedelta(days=1)
    return date.fromordinal(rng.randint(earliest.toordinal(), latest.toordinal()))


def _name(rng: random.Random, sex: Sex) -> str:
    first = rng.choice(_MALE if sex is Sex.MALE else _FEMALE)
    family = rng.choice(_FAMILY_NAMES)
    return f"{first} {family}".strip() if family and " " not in first else first


def generate_registry(
    kecamatan: str = "350805",
    families: int = 500,
    *,
    seed: int = 1,
    today: date | None = None,
) -> list[RegistryPerson]:
    """A realistic sample registry of ``families`` households living in ``kecamatan``.

    Each family has one KK (issued in the kecamatan) and a head, usually a spouse, and 0-5
    children. Every NIK encodes its holder's birth date and sex; about one spouse in six was
    first registered elsewhere, so their NIK carries another region code. Same arguments,
    same registry.
    """
    code = parse_region_code(kecamatan, RegionLevel.KECAMATAN)
    today = today or today_in_indonesia()
    rng = random.Random(seed)
    numbers = _Numbers()
    villages = desa_of(code)
    people: list[RegistryPerson] = []
    for _ in range(families):
        desa_code, desa_name = rng.choice(villages)
        address = Address(
            street=f"Dusun {rng.choice(_DUSUN)}",
            rt=str(rng.randint(1, 12)),
            rw=str(rng.randint(1, 6)),
            desa_code=desa_code,
            desa_name=desa_name,
        )
        religion = rng.choices(
            (Religion.ISLAM, Religion.KRISTEN, Religion.HINDU, Religion.KATOLIK),
            weights=(95, 2, 2, 1),
        )[0]
        widowed_mother = rng.random() < 0.12
        head_sex = Sex.FEMALE if widowed_mother else Sex.MALE
        head_born = _birth_date(rng, today, 22, 75)
        issued = date.fromordinal(
            rng.randint(
                max(head_born.toordinal() + 19 * 365, date(2005, 1, 1).toordinal()),
                today.toordinal(),
            )
        )
        kk = numbers.kk(code, issued)

        def person(
            role: FamilyRole,
            sex: Sex,
            born: date,
            marital: MaritalStatus,
            job: str,
            region: str,
            kk_number: str = kk,
            faith: Religion = religion,
            home: Address = address,
        ) -> RegistryPerson:
            return RegistryPerson(
                nik=numbers.nik(region, born, sex),
                kk_number=kk_number,
                family_role=role,
                name=_name(rng, sex),
                birth_place=rng.choice(_BIRTH_PLACES),
                birth_date=born,
                sex=sex,
                blood_type=rng.choice(tuple(BloodType)),
                religion=faith,
                marital_status=marital,
                occupation=job,
                address=home,
            )

        head_status = MaritalStatus.CERAI_MATI if widowed_mother else MaritalStatus.KAWIN
        head_job = rng.choice(_SPOUSE_JOBS if widowed_mother else _HEAD_JOBS)
        people.append(
            person(FamilyRole.KEPALA_KELUARGA, head_sex, head_born, head_status, head_job, code)
        )
        mother_born = head_born
        if not widowed_mother:
            head_age = age_on(head_born, today)
            low, high = max(19, head_age - 10), max(19, head_age + 2)
            mother_born = _birth_date(rng, today, min(low, high), high)
            moved_in = rng.random() < 0.17
            region = rng.choice(_OTHER_REGIONS) if moved_in else code
            people.append(
                person(
                    FamilyRole.ISTRI,
                    Sex.FEMALE,
                    mother_born,
                    MaritalStatus.KAWIN,
                    rng.choice(_SPOUSE_JOBS),
                    region,
                )
            )
        mother_age = age_on(mother_born, today)
        # Children born when the mother was 19-42, and not in the future.
        oldest, youngest = mother_age - 19, max(0, mother_age - 42)
        for _child in range(rng.choice((0, 1, 2, 2, 3, 3, 4, 5)) if oldest >= 0 else 0):
            child_age_high = min(oldest, 30)
            if child_age_high < youngest:
                break
            born = _birth_date(rng, today, youngest, child_age_high)
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            age = age_on(born, today)
            job = (
                "Belum/Tidak Bekerja"
                if age < 5
                else "Pelajar/Mahasiswa"
                if age < 22
                else rng.choice(_ADULT_CHILD_JOBS)
            )
            people.append(person(FamilyRole.ANAK, sex, born, MaritalStatus.BELUM_KAWIN, job, code))
    return people


# ---------------------------------------------------------------- the file


def write_file(persons: Sequence[RegistryPerson], path: Path) -> None:
    """Write CSV (``.csv``) or JSON (anything else) in the extract format."""
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(p.flat() for p in persons)
    else:
        rows = [p.model_dump(mode="json") for p in persons]
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.registry",
        description="A sample population registry extract (stands in for SIAK).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a realistic sample registry")
    gen.add_argument("--kecamatan", default="350805")
    gen.add_argument("--families", type=int, default=500)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--today", type=date.fromisoformat, help="reference date (YYYY-MM-DD)")
    gen.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.json")
    args = parser.parse_args(argv)
    try:
        persons = generate_registry(args.kecamatan, args.families, seed=args.seed, today=args.today)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    write_file(persons, args.out)
    print(f"wrote {len(persons)} residents in {args.families} families to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
