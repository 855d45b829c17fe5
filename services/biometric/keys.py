"""Master key configuration, and the key rotation commands.

    python -m services.biometric.keys rotate-master
    python -m services.biometric.keys rotate-data-key --kecamatan 350805

Master keys come from settings (``TUNTAS_BIOMETRIC_MASTER_KEYS`` or
``TUNTAS_BIOMETRIC_MASTER_KEY_FILE``), else the core's unprefixed ``BIOMETRIC_MASTER_KEYS`` /
``BIOMETRIC_MASTER_KEY_FILE``. For a local run with none of these, a key file is generated once
under ``TUNTAS_HOME`` (``biometric/master.keys``, mode 0600) and reused afterwards; a
production deployment sets ``TUNTAS_BIOMETRIC_GENERATE_MASTER_KEY=false`` so a missing key is
an error instead.

Master key rotation: add a new version to the configuration ("1:<old>,2:<new>"), run
``rotate-master`` (re-wraps every data key under v2), then drop v1 from the configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from schemas.values import RegionLevel, parse_region_code
from services.biometric import store
from services.biometric.crypto import (
    KeyConfigError,
    MasterKeyring,
    keyring_from_env,
    new_master_key,
    parse_keyring,
)
from services.biometric.settings import SERVICE, BiometricSettings
from services.runtime import db, logs
from services.runtime.db import Conn

log = logging.getLogger("tuntas.biometric.keys")

GENERATED_KEY_FILE = Path("biometric") / "master.keys"


def generated_key_path(settings: BiometricSettings) -> Path:
    return settings.home / GENERATED_KEY_FILE


def load_keyring(settings: BiometricSettings, *, generate: bool | None = None) -> MasterKeyring:
    """The configured master keyring; see the module docstring for the order of sources."""
    if settings.master_keys is not None:
        return parse_keyring(settings.master_keys.get_secret_value())
    if settings.master_key_file is not None:
        return parse_keyring(settings.master_key_file.read_text())
    try:
        return keyring_from_env()
    except KeyConfigError:
        pass
    path = generated_key_path(settings)
    if path.exists():
        log.info("biometric master key: using the generated key file %s", path)
        return parse_keyring(path.read_text())
    if not (settings.generate_master_key if generate is None else generate):
        raise KeyConfigError(
            "no biometric master key configured: set TUNTAS_BIOMETRIC_MASTER_KEYS or "
            "TUNTAS_BIOMETRIC_MASTER_KEY_FILE"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once cannot both write a (different) key
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_keyring(path.read_text())
    with os.fdopen(fd, "w") as f:
        f.write(
            f"# Tuntas biometric master key (generated for a local run)\n1:{new_master_key()}\n"
        )
    log.warning(
        "biometric master key: none configured; generated a new key file %s (local use only: "
        "back it up, or configure TUNTAS_BIOMETRIC_MASTER_KEYS / _MASTER_KEY_FILE)",
        path,
    )
    return parse_keyring(path.read_text())


async def check_keyring(conn: Conn, keyring: MasterKeyring) -> None:
    """Fail fast when stored data keys are wrapped by a master version not configured."""
    versions = {
        r["master_version"]
        for r in await conn.fetch("SELECT DISTINCT master_version FROM data_keys")
    }
    missing = sorted(versions - set(keyring.keys))
    if missing:
        raise KeyConfigError(
            f"data keys are wrapped by master key version(s) {missing}, which are not configured"
        )


async def rotate_master(settings: BiometricSettings) -> int:
    keyring = load_keyring(settings, generate=False)
    conn = await db.connect(settings.connections.database_url, settings.schema_name)
    try:
        await db.migrate(conn, settings.schema_name, store.MIGRATIONS)
        count = await store.rotate_master_key(conn, keyring)
    finally:
        await conn.close()
    log.info("re-wrapped %d data key(s) under master key v%d", count, keyring.current)
    return count


async def rotate_data_key(settings: BiometricSettings, kecamatan: str) -> int:
    keyring = load_keyring(settings, generate=False)
    conn = await db.connect(settings.connections.database_url, settings.schema_name)
    try:
        await db.migrate(conn, settings.schema_name, store.MIGRATIONS)
        count = await store.rotate_data_key(conn, keyring, kecamatan)
    finally:
        await conn.close()
    log.info("kecamatan %s: new data key; re-encrypted %d blob(s)", kecamatan, count)
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.biometric.keys", description="Biometric key rotation."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "rotate-master", help="re-wrap every data key under the newest configured master key"
    )
    data = commands.add_parser(
        "rotate-data-key", help="give one kecamatan a new data key and re-encrypt its data"
    )
    data.add_argument("--kecamatan", required=True, help="kecamatan code, e.g. 350805")
    args = parser.parse_args(argv)
    settings = BiometricSettings()
    logs.configure(SERVICE, settings.log_level)
    try:
        if args.command == "rotate-master":
            count = asyncio.run(rotate_master(settings))
            print(f"re-wrapped {count} data key(s)")
        else:
            kecamatan = parse_region_code(args.kecamatan, RegionLevel.KECAMATAN)
            count = asyncio.run(rotate_data_key(settings, kecamatan))
            print(f"re-encrypted {count} blob(s) of kecamatan {kecamatan}")
    except (KeyConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
