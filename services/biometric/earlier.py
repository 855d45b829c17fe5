"""Load biometric records taken before this deployment (the earlier mass recording), so an
applicant already recorded is not recorded again (procedure step 3: record only if not yet
recorded).

    python -m services.biometric.earlier --kecamatan 350805 --nik-file niks.txt \\
        [--captured-on 2013-05-02]

``--nik-file``: one NIK per line (``#`` comments allowed). Every NIK is checked before anything
is stored; a bad line stops the load with its line number. The captures come from the simulated
device set, seeded per NIK as the live stage seeds them, so a later live finger of the same
person matches (the demo and tests rely on this; a real migration would read the old system's
records instead). NIKs that already have a record are left alone and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from schemas.values import (
    InvalidValue,
    RegionLevel,
    parse_nik,
    parse_region_code,
    today_in_indonesia,
)
from services.biometric import rules, store
from services.biometric.capture import SimulatedDevices
from services.biometric.enrolment import enrol
from services.biometric.keys import check_keyring, load_keyring
from services.biometric.settings import SERVICE, BiometricSettings
from services.runtime import db, logs

log = logging.getLogger("tuntas.biometric.earlier")


class NikFileError(ValueError):
    pass


def read_niks(path: Path) -> list[str]:
    """The NIKs of ``path``, each checked; raises `NikFileError` naming every bad line."""
    niks: list[str] = []
    problems: list[str] = []
    today = today_in_indonesia()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            parse_nik(text, today=today)
            niks.append(text)
        except InvalidValue as error:
            problems.append(f"{path}:{number}: {error.message_en}")
    if problems:
        raise NikFileError("; ".join(problems))
    return niks


async def load(
    settings: BiometricSettings, kecamatan: str, niks: Sequence[str], captured_on: date
) -> tuple[int, int]:
    """Record every NIK of ``niks`` in ``kecamatan``; return (stored, already recorded)."""
    keyring = load_keyring(settings)
    policy = settings.quality_policy()
    conn = await db.connect(settings.connections.database_url, settings.schema_name)
    stored = existing = 0
    try:
        await db.migrate(conn, settings.schema_name, store.MIGRATIONS)
        await check_keyring(conn, keyring)
        captured_at = datetime(captured_on.year, captured_on.month, captured_on.day, tzinfo=UTC)
        for nik in niks:
            if await store.record_exists_for_nik(conn, nik):
                existing += 1
                continue
            devices = SimulatedDevices(seed=rules.simulation_seed(nik))
            enrolment = await asyncio.to_thread(enrol, devices, policy)
            await store.save_record(
                conn,
                keyring,
                nik=nik,
                kecamatan=kecamatan,
                enrolment=enrolment,
                captured_at=captured_at,
            )
            stored += 1
    finally:
        await conn.close()
    return stored, existing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.biometric.earlier",
        description="Load biometric records taken before this deployment.",
    )
    parser.add_argument("--kecamatan", required=True, help="where they were recorded, e.g. 350805")
    parser.add_argument("--nik-file", type=Path, required=True, help="one NIK per line")
    parser.add_argument(
        "--captured-on", type=date.fromisoformat, default=date(2013, 5, 2), help="YYYY-MM-DD"
    )
    args = parser.parse_args(argv)
    settings = BiometricSettings()
    logs.configure(SERVICE, settings.log_level)
    try:
        kecamatan = parse_region_code(args.kecamatan, RegionLevel.KECAMATAN)
        niks = read_niks(args.nik_file)
        stored, existing = asyncio.run(load(settings, kecamatan, niks, args.captured_on))
    except (NikFileError, InvalidValue, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"stored {stored} earlier record(s); {existing} NIK(s) already had one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
