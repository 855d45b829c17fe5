"""Earlier records: loaded encrypted, found by the skip path's lookup, bad files refused whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg
import pytest

from services.biometric import earlier, store
from services.biometric.crypto import new_master_key
from services.biometric.settings import BiometricSettings
from services.runtime.db import connect

NIKS = ("3508051203900002", "3508055507850001")


def _settings(pg_dsn: str, db_schema: str) -> BiometricSettings:
    return BiometricSettings.model_validate(
        {
            "connections": {"database_url": pg_dsn},
            "db_schema": db_schema,
            "master_keys": f"1:{new_master_key()}",
        }
    )


async def test_earlier_records_are_stored_once_and_found_by_nik(
    pg_dsn: str, db_schema: str, tmp_path: Path
) -> None:
    settings = _settings(pg_dsn, db_schema)
    path = tmp_path / "niks.txt"
    path.write_text(f"# earlier recording\n{NIKS[0]}\n\n{NIKS[1]}  # second\n")
    niks = earlier.read_niks(path)
    assert niks == list(NIKS)

    assert await earlier.load(settings, "350805", niks, date(2013, 5, 2)) == (2, 0)
    assert await earlier.load(settings, "350805", niks, date(2013, 5, 2)) == (0, 2)

    conn: asyncpg.Connection = await connect(pg_dsn, db_schema)
    try:
        found = await store.record_for_nik(conn, NIKS[1])
        assert found is not None and found.kecamatan == "350805"
        captured = await conn.fetchval(
            "SELECT captured_at::date FROM records WHERE nik = $1", NIKS[0]
        )
        assert captured == date(2013, 5, 2)
        # only ciphertext at rest: no PNG header in any stored blob
        png_blobs = await conn.fetchval(
            "SELECT count(*) FROM items WHERE position('\\x89504e47'::bytea in ciphertext) = 1"
        )
        assert png_blobs == 0
    finally:
        await conn.close()


def test_a_bad_line_refuses_the_whole_file_and_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "niks.txt"
    path.write_text(f"{NIKS[0]}\n35080512039\n")
    with pytest.raises(earlier.NikFileError, match=r"niks.txt:2: NIK must have 16 digits"):
        earlier.read_niks(path)
