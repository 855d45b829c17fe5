"""Master key configuration and the key rotation commands (real PostgreSQL, real processes)."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from services.biometric.crypto import KeyConfigError, MasterKeyring, new_master_key, parse_keyring
from services.biometric.items import FACE
from services.biometric.keys import check_keyring, generated_key_path, load_keyring
from services.biometric.settings import BiometricSettings
from services.biometric.store import load_item, save_record
from tests.biometric.conftest import enrolled

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = (
    "BIOMETRIC_MASTER_KEYS",
    "BIOMETRIC_MASTER_KEY_FILE",
    "TUNTAS_BIOMETRIC_MASTER_KEYS",
    "TUNTAS_BIOMETRIC_MASTER_KEY_FILE",
    "TUNTAS_BIOMETRIC_GENERATE_MASTER_KEY",
)


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEY_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_key_env")
def test_local_run_generates_a_key_file_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tuntas.biometric.keys")
    settings = BiometricSettings(home=tmp_path)
    first = load_keyring(settings)
    path = generated_key_path(settings)
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert any("generated a new key file" in r.getMessage() for r in caplog.records)
    assert load_keyring(settings) == first  # reused on the next start
    assert str(first.keys[1]) not in caplog.text


@pytest.mark.usefixtures("no_key_env")
def test_configured_keys_win_and_production_does_not_generate(tmp_path: Path) -> None:
    configured = f"1:{new_master_key()},2:{new_master_key()}"
    keyring = load_keyring(BiometricSettings(home=tmp_path, master_keys=SecretStr(configured)))
    assert keyring.current == 2
    key_file = tmp_path / "keys.txt"
    key_file.write_text(f"# ops-managed, rotated yearly\n3:{new_master_key()}  # current\n")
    assert load_keyring(BiometricSettings(home=tmp_path, master_key_file=key_file)).current == 3
    with pytest.raises(KeyConfigError):
        load_keyring(BiometricSettings(home=tmp_path, generate_master_key=False))
    assert not generated_key_path(BiometricSettings(home=tmp_path)).exists()


async def test_a_keyring_missing_a_stored_master_version_fails_at_start(
    conn: asyncpg.Connection, keyring: MasterKeyring
) -> None:
    await save_record(
        conn,
        keyring,
        nik="3508054107850001",
        kecamatan="350805",
        enrolment=enrolled("siti"),
        captured_at=datetime.now(UTC),
    )
    await check_keyring(conn, keyring)
    with pytest.raises(KeyConfigError):
        await check_keyring(conn, parse_keyring(f"2:{new_master_key()}"))


async def _command(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.biometric.keys",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_rotation_commands(
    conn: asyncpg.Connection, pg_dsn: str, db_schema: str, no_key_env: None
) -> None:
    old, new = new_master_key(), new_master_key()
    saved = await save_record(
        conn,
        parse_keyring(f"1:{old}"),
        nik="3508054107850001",
        kecamatan="350805",
        enrolment=enrolled("siti"),
        captured_at=datetime.now(UTC),
    )
    face = await load_item(conn, parse_keyring(f"1:{old}"), saved.record_id, FACE)
    env = {
        "DATABASE_URL": pg_dsn,
        "TUNTAS_BIOMETRIC_DB_SCHEMA": db_schema,
        "TUNTAS_BIOMETRIC_MASTER_KEYS": f"1:{old},2:{new}",
    }
    assert "re-wrapped 1 data key(s)" in await _command(env, "rotate-master")
    only_new = parse_keyring(f"2:{new}")  # the old master key can now be dropped
    assert await load_item(conn, only_new, saved.record_id, FACE) == face

    env["TUNTAS_BIOMETRIC_MASTER_KEYS"] = f"2:{new}"
    out = await _command(env, "rotate-data-key", "--kecamatan", "35.08.05")
    assert "of kecamatan 350805" in out
    assert await load_item(conn, only_new, saved.record_id, FACE) == face
    versions = await conn.fetch("SELECT version FROM data_keys WHERE kecamatan = '350805'")
    assert [r["version"] for r in versions] == [2]
