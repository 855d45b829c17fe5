"""Envelope encryption of biometric data at rest (AES-256-GCM).

- A master key (versioned, from configuration) only wraps data keys; it never touches images.
- One data key per kecamatan (versioned) encrypts that kecamatan's blobs, so one tenant's data
  can be crypto-shredded or re-keyed on its own.
- Associated data binds each ciphertext to where it belongs: a wrapped data key to its
  kecamatan and version, a blob to its kecamatan, record id and item kind. A ciphertext copied
  to another row fails to decrypt instead of showing someone else's fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12  # 96-bit random nonces: safe far beyond the blobs one data key encrypts
ENV_KEYS = "BIOMETRIC_MASTER_KEYS"
ENV_KEY_FILE = "BIOMETRIC_MASTER_KEY_FILE"


class KeyConfigError(Exception):
    """Bad key configuration (missing, malformed, unknown version)."""


class DecryptionFailed(Exception):
    """Wrong key or associated data, or tampered ciphertext."""


@dataclass(frozen=True)
class MasterKeyring:
    """Master keys by version; the highest version wraps new data keys, older ones only unwrap."""

    keys: Mapping[int, bytes]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError("no master key configured")
        for version, key in self.keys.items():
            if version < 1 or len(key) != KEY_BYTES:
                raise KeyConfigError(
                    f"master key v{version}: need version ≥ 1 and {KEY_BYTES} bytes"
                )

    @property
    def current(self) -> int:
        return max(self.keys)

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise KeyConfigError(f"master key v{version} is not configured") from None

    def __repr__(self) -> str:  # never print key material
        return f"MasterKeyring(versions={sorted(self.keys)})"


def parse_keyring(text: str) -> MasterKeyring:
    """`"1:<base64>,2:<base64>"` (commas or newlines; `#` comments in files).

    A single bare base64 value is version 1."""
    # comments first (they may hold commas), then entries split on commas and newlines
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    entries = [e.strip() for e in ",".join(lines).split(",")]
    entries = [e for e in entries if e]
    if len(entries) == 1 and ":" not in entries[0]:
        entries = [f"1:{entries[0]}"]
    keys: dict[int, bytes] = {}
    for entry in entries:
        version_text, sep, value = entry.partition(":")
        try:
            version = int(version_text)
            key = base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            raise KeyConfigError("master keys must look like 1:<base64>,2:<base64>") from None
        if not sep or version in keys:
            raise KeyConfigError(f"master key entry for v{version_text} is malformed or repeated")
        keys[version] = key
    return MasterKeyring(keys)


def keyring_from_env(environ: Mapping[str, str] | None = None) -> MasterKeyring:
    """From `BIOMETRIC_MASTER_KEYS`, else the file named by `BIOMETRIC_MASTER_KEY_FILE`."""
    env = os.environ if environ is None else environ
    if value := env.get(ENV_KEYS):
        return parse_keyring(value)
    if path := env.get(ENV_KEY_FILE):
        return parse_keyring(Path(path).read_text())
    raise KeyConfigError(f"set {ENV_KEYS} or {ENV_KEY_FILE}")


def new_master_key() -> str:
    """A fresh master key, base64, for configuration."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


@dataclass(frozen=True)
class WrappedDataKey:
    kecamatan: str
    version: int
    master_version: int
    nonce: bytes
    wrapped: bytes


@dataclass(frozen=True)
class DataKey:
    kecamatan: str
    version: int
    key: bytes

    def __repr__(self) -> str:
        return f"DataKey(kecamatan={self.kecamatan!r}, version={self.version})"

    @cached_property
    def cipher(self) -> AESGCM:
        """Built once per key: its key schedule cost more than sealing a template (an import
        seals twelve blobs per record)."""
        return AESGCM(self.key)


@dataclass(frozen=True)
class Sealed:
    key_version: int  # the data key version within the kecamatan
    nonce: bytes
    ciphertext: bytes  # includes the 16-byte GCM tag


def _ad(*parts: str) -> bytes:
    # NUL-separated: none of the parts (codes, uuids, item kinds, numbers) can contain NUL
    return "\x00".join(("tuntas.biometric.v1", *parts)).encode()


def _dek_ad(kecamatan: str, version: int) -> bytes:
    return _ad("data-key", kecamatan, str(version))


def _blob_ad(kecamatan: str, record_id: str, item: str) -> bytes:
    return _ad("blob", kecamatan, record_id, item)


def new_data_key(
    kecamatan: str, version: int, keyring: MasterKeyring
) -> tuple[DataKey, WrappedDataKey]:
    key = AESGCM.generate_key(bit_length=256)
    return DataKey(kecamatan, version, key), wrap(DataKey(kecamatan, version, key), keyring)


def wrap(data_key: DataKey, keyring: MasterKeyring) -> WrappedDataKey:
    """Wrap under the keyring's current master key."""
    nonce = os.urandom(NONCE_BYTES)
    master = keyring.current
    wrapped = AESGCM(keyring.key(master)).encrypt(
        nonce, data_key.key, _dek_ad(data_key.kecamatan, data_key.version)
    )
    return WrappedDataKey(data_key.kecamatan, data_key.version, master, nonce, wrapped)


def unwrap(wrapped: WrappedDataKey, keyring: MasterKeyring) -> DataKey:
    try:
        key = AESGCM(keyring.key(wrapped.master_version)).decrypt(
            wrapped.nonce, wrapped.wrapped, _dek_ad(wrapped.kecamatan, wrapped.version)
        )
    except InvalidTag:
        raise DecryptionFailed(
            f"data key {wrapped.kecamatan} v{wrapped.version} does not unwrap"
        ) from None
    return DataKey(wrapped.kecamatan, wrapped.version, key)


def rewrap(wrapped: WrappedDataKey, keyring: MasterKeyring) -> WrappedDataKey:
    """Master key rotation for one data key: unwrap with its version, wrap with the current."""
    return wrap(unwrap(wrapped, keyring), keyring)


def seal(data_key: DataKey, record_id: str, item: str, plaintext: bytes) -> Sealed:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = data_key.cipher.encrypt(
        nonce, plaintext, _blob_ad(data_key.kecamatan, record_id, item)
    )
    return Sealed(data_key.version, nonce, ciphertext)


def open_sealed(data_key: DataKey, record_id: str, item: str, sealed: Sealed) -> bytes:
    if sealed.key_version != data_key.version:
        raise DecryptionFailed(
            f"blob needs data key v{sealed.key_version}, got v{data_key.version}"
        )
    try:
        return data_key.cipher.decrypt(
            sealed.nonce, sealed.ciphertext, _blob_ad(data_key.kecamatan, record_id, item)
        )
    except InvalidTag:
        raise DecryptionFailed(f"{item} of record {record_id} does not decrypt") from None


def reseal(old: DataKey, new: DataKey, record_id: str, item: str, sealed: Sealed) -> Sealed:
    """Data key rotation for one blob."""
    return seal(new, record_id, item, open_sealed(old, record_id, item, sealed))
