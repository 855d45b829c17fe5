"""Envelope encryption: round trip, associated data binding, key rotation, configuration."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from services.biometric.crypto import (
    DataKey,
    DecryptionFailed,
    KeyConfigError,
    WrappedDataKey,
    keyring_from_env,
    new_data_key,
    new_master_key,
    open_sealed,
    parse_keyring,
    reseal,
    rewrap,
    seal,
    unwrap,
)

KEC, OTHER_KEC = "350805", "350806"
RECORD, OTHER_RECORD = (
    "0b6f3c1e-0000-4000-8000-000000000001",
    "0b6f3c1e-0000-4000-8000-000000000002",
)
IMAGE = b"\x89PNG fingerprint bytes " * 50


def test_keyring_formats_and_errors(tmp_path: Path) -> None:
    k1, k2 = new_master_key(), new_master_key()
    assert parse_keyring(k1).current == 1  # a bare value is version 1
    ring = parse_keyring(f"1:{k1}, 2:{k2}")
    assert ring.current == 2
    assert ring.key(1) == base64.b64decode(k1)
    key_file = tmp_path / "master.keys"
    key_file.write_text(f"# rotated 2026-01\n1:{k1}\n2:{k2}\n")
    assert keyring_from_env({"BIOMETRIC_MASTER_KEY_FILE": str(key_file)}) == ring
    assert keyring_from_env({"BIOMETRIC_MASTER_KEYS": f"2:{k2}"}).current == 2
    assert k1 not in repr(ring) and "versions=[1, 2]" in repr(ring)
    for bad in ("", "1:not-base64!", f"1:{base64.b64encode(b'short').decode()}", f"1:{k1},1:{k2}"):
        with pytest.raises(KeyConfigError):
            parse_keyring(bad)
    with pytest.raises(KeyConfigError):
        keyring_from_env({})


def test_round_trip_and_ciphertext_does_not_contain_plaintext() -> None:
    ring = parse_keyring(new_master_key())
    key, wrapped = new_data_key(KEC, 1, ring)
    sealed = seal(key, RECORD, "finger.right_thumb", IMAGE)
    assert IMAGE[:16] not in sealed.ciphertext
    assert key.key not in wrapped.wrapped
    assert open_sealed(unwrap(wrapped, ring), RECORD, "finger.right_thumb", sealed) == IMAGE


def test_ciphertext_moved_to_another_record_item_or_tenant_fails() -> None:
    ring = parse_keyring(new_master_key())
    key, _ = new_data_key(KEC, 1, ring)
    sealed = seal(key, RECORD, "face", IMAGE)
    with pytest.raises(DecryptionFailed):
        open_sealed(key, OTHER_RECORD, "face", sealed)
    with pytest.raises(DecryptionFailed):
        open_sealed(key, RECORD, "signature", sealed)
    # even with the very same key bytes, the tenant in the associated data must match
    with pytest.raises(DecryptionFailed):
        open_sealed(DataKey(OTHER_KEC, 1, key.key), RECORD, "face", sealed)


def test_wrapped_data_key_moved_to_another_kecamatan_fails() -> None:
    ring = parse_keyring(new_master_key())
    _, wrapped = new_data_key(KEC, 1, ring)
    moved = WrappedDataKey(OTHER_KEC, 1, wrapped.master_version, wrapped.nonce, wrapped.wrapped)
    with pytest.raises(DecryptionFailed):
        unwrap(moved, ring)


def test_wrong_master_key_fails() -> None:
    _, wrapped = new_data_key(KEC, 1, parse_keyring(new_master_key()))
    with pytest.raises(DecryptionFailed):
        unwrap(wrapped, parse_keyring(new_master_key()))


def test_master_rotation_keeps_data_readable_without_the_old_master() -> None:
    k1, k2 = new_master_key(), new_master_key()
    old_ring = parse_keyring(f"1:{k1}")
    key, wrapped = new_data_key(KEC, 1, old_ring)
    sealed = seal(key, RECORD, "face", IMAGE)

    rotated = rewrap(wrapped, parse_keyring(f"1:{k1},2:{k2}"))
    assert rotated.master_version == 2
    only_new = parse_keyring(f"2:{k2}")
    assert open_sealed(unwrap(rotated, only_new), RECORD, "face", sealed) == IMAGE
    with pytest.raises(KeyConfigError):
        unwrap(wrapped, only_new)  # the old wrapping needs the retired master


def test_data_key_rotation_reencrypts_under_the_new_version() -> None:
    ring = parse_keyring(new_master_key())
    old, _ = new_data_key(KEC, 1, ring)
    new, _ = new_data_key(KEC, 2, ring)
    sealed = seal(old, RECORD, "face", IMAGE)
    moved = reseal(old, new, RECORD, "face", sealed)
    assert moved.key_version == 2 and moved.ciphertext != sealed.ciphertext
    assert open_sealed(new, RECORD, "face", moved) == IMAGE
    with pytest.raises(DecryptionFailed):
        open_sealed(old, RECORD, "face", moved)
